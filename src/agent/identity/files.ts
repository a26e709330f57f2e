import { chmod, copyFile, mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic-file.js";
import { RunosError } from "../../common/errors.js";
import { firstPemBlock } from "../../common/pem.js";
import { type CertificateInfo, certificateInfo } from "../../common/pki.js";
import type { Paths } from "../host/paths.js";
import type { AgentConfig } from "./config.js";

export interface Identity {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface IdentityPaths {
  ca: string;
  cert: string;
  key: string;
}

export function identityPaths(paths: Paths, config: AgentConfig): IdentityPaths {
  return {
    ca: paths.onRoot(config.mtls.ca),
    cert: paths.onRoot(config.mtls.crt),
    key: paths.onRoot(config.mtls.key),
  };
}

/** Reads the mTLS identity without side effects (the original created empty files here). */
export async function readIdentity(files: IdentityPaths): Promise<Identity> {
  const read = async (path: string, what: string) => {
    try {
      const text = await readFile(path, "utf8");
      if (text.trim() === "") throw new Error("empty");
      return text;
    } catch (err) {
      throw new RunosError(
        "NA_NOT_REGISTERED",
        `this node is not registered: ${what} ${path} is missing or empty`,
        {
          hint: "run `runos register --server HOST --aid ACCOUNT --token TOKEN`",
          cause: err,
        },
      );
    }
  };
  return {
    caPem: await read(files.ca, "CA certificate"),
    certPem: await read(files.cert, "client certificate"),
    keyPem: await read(files.key, "client key"),
  };
}

/** Normalises PEM (first block only) and writes all three; the key is 0600. */
export async function writeIdentity(files: IdentityPaths, identity: Identity): Promise<void> {
  const ca = firstPemBlock(identity.caPem);
  const cert = firstPemBlock(identity.certPem);
  const key =
    firstPemBlock(identity.keyPem, "PRIVATE KEY") ??
    firstPemBlock(identity.keyPem, "RSA PRIVATE KEY") ??
    firstPemBlock(identity.keyPem, "EC PRIVATE KEY");
  if (!ca || !cert || !key)
    throw new RunosError("NA_CERT_INVALID", "the control plane returned malformed PEM material");
  certificateInfo(cert); // throws before anything is written
  await writeFileAtomic(files.key, key, { mode: 0o600, dirMode: 0o755 });
  await writeFileAtomic(files.cert, cert, { mode: 0o644 });
  await writeFileAtomic(files.ca, ca, { mode: 0o644 });
}

export async function readCertificateInfo(files: IdentityPaths): Promise<CertificateInfo> {
  let pem: string;
  try {
    pem = await readFile(files.cert, "utf8");
  } catch (err) {
    throw new RunosError("NA_CERT_INVALID", `cannot read ${files.cert}`, {
      hint: "run `runos register` first",
      cause: err,
    });
  }
  return certificateInfo(pem);
}

/** Fleet remediation: keys written 0644 by older tools are tightened at every start. */
export async function tightenKeyMode(files: IdentityPaths): Promise<void> {
  try {
    const info = await stat(files.key);
    if ((info.mode & 0o077) !== 0) await chmod(files.key, 0o600);
  } catch {
    // no key yet
  }
}

/** Copies the identity aside (dir 0700, files 0600) so a failed renewal can be undone. */
export async function backupIdentity(files: IdentityPaths, backupRoot: string): Promise<string> {
  const dir = join(backupRoot, new Date().toISOString().replace(/[:.]/g, "-"));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [name, path] of Object.entries(files)) {
    await copyFile(path, join(dir, name));
    await chmod(join(dir, name), 0o600);
  }
  return dir;
}

export async function restoreIdentity(files: IdentityPaths, backupDir: string): Promise<void> {
  await writeIdentity(files, {
    caPem: await readFile(join(backupDir, "ca"), "utf8"),
    certPem: await readFile(join(backupDir, "cert"), "utf8"),
    keyPem: await readFile(join(backupDir, "key"), "utf8"),
  });
}

export async function removeBackup(backupDir: string): Promise<void> {
  await rm(backupDir, { recursive: true, force: true });
}
