import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../../common/atomic-file.js";
import { RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { CertificateAuthority, createCa } from "../../common/pki.js";

export interface CaFiles {
  certPath: string;
  keyPath: string;
}

/**
 * Loads the CA, or creates it on first start. A CA with one half missing is an error, never a
 * silent re-creation: every enrolled node trusts the old CA.
 */
export async function loadOrCreateCa(files: CaFiles, log: Logger): Promise<CertificateAuthority> {
  const [certPem, keyPem] = await Promise.all([readIfExists(files.certPath), readIfExists(files.keyPath)]);
  if (certPem !== undefined && keyPem !== undefined) {
    try {
      return await CertificateAuthority.load({ certPem, keyPem });
    } catch (err) {
      throw new RunosError(
        "NA_CERT_INVALID",
        `cannot load the CA from ${files.certPath} and ${files.keyPath}`,
        {
          cause: err,
          hint: "restore both files from a backup; creating a new CA would orphan every enrolled node",
        },
      );
    }
  }
  if (certPem !== undefined || keyPem !== undefined) {
    const missing = certPem === undefined ? files.certPath : files.keyPath;
    throw new RunosError("NA_CERT_INVALID", `the CA is incomplete: ${missing} is missing`, {
      hint: "restore it from a backup; nodeward will not replace a CA that nodes already trust",
    });
  }
  const created = await createCa("runos nodeward CA");
  await writeFileAtomic(files.keyPath, created.keyPem, { mode: 0o600, dirMode: 0o700 });
  await writeFileAtomic(files.certPath, created.certPem, { mode: 0o644, dirMode: 0o700 });
  log.info({ path: files.certPath }, "created a new CA");
  return CertificateAuthority.load(created);
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
