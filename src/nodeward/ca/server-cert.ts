import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { writeFileAtomic } from "../../common/atomic-file.js";
import type { Logger } from "../../common/log.js";
import { firstPemBlock } from "../../common/pem.js";
import type { CertificateAuthority } from "../../common/pki.js";
import { readIfExists } from "./ca-files.js";

export interface ServerCertFiles {
  certPath: string;
  keyPath: string;
}

export interface ServerCert {
  /** Leaf then CA: a client that pins the CA by hash sees it in the handshake. */
  chainPem: string;
  keyPem: string;
}

const serverCertTtlMs = 365 * 24 * 3600 * 1000;
const renewBeforeMs = 30 * 24 * 3600 * 1000;

/** Keeps the server certificate while it fits the host list, the CA and the calendar; else reissues. */
export async function ensureServerCert(
  ca: CertificateAuthority,
  hosts: readonly string[],
  files: ServerCertFiles,
  now: number,
  log: Logger,
): Promise<ServerCert> {
  const [chainPem, keyPem] = await Promise.all([readIfExists(files.certPath), readIfExists(files.keyPath)]);
  if (chainPem !== undefined && keyPem !== undefined) {
    const reason = reissueReason(chainPem, ca, hosts, now);
    if (!reason) return { chainPem, keyPem };
    log.info({ reason }, "reissuing the server certificate");
  }
  const issued = await ca.issueServerCert([...hosts], serverCertTtlMs);
  const chain = `${issued.certPem.trimEnd()}\n${ca.certPem.trimEnd()}\n`;
  await writeFileAtomic(files.keyPath, issued.keyPem, { mode: 0o600, dirMode: 0o700 });
  await writeFileAtomic(files.certPath, chain, { mode: 0o644, dirMode: 0o700 });
  return { chainPem: chain, keyPem: issued.keyPem };
}

/** Why the stored certificate must be replaced, or undefined if it is still good. */
export function reissueReason(
  chainPem: string,
  ca: CertificateAuthority,
  hosts: readonly string[],
  now: number,
): string | undefined {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(firstPemBlock(chainPem) ?? chainPem);
  } catch {
    return "the stored certificate does not parse";
  }
  const caCert = new X509Certificate(ca.certPem);
  if (!leaf.checkIssued(caCert) || !leaf.verify(caCert.publicKey)) {
    return "the stored certificate was not issued by this CA";
  }
  if (Date.parse(leaf.validTo) - now < renewBeforeMs) return "the certificate is near its expiry";
  const have = new Set(subjectAltNames(leaf));
  const want = new Set(hosts.map(sanKey));
  if (have.size !== want.size || [...want].some((h) => !have.has(h))) return "the host list changed";
  return undefined;
}

function subjectAltNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? "")
    .split(/,\s*/)
    .map((entry) => {
      const [kind, ...rest] = entry.split(":");
      const value = rest.join(":");
      if (kind === "DNS") return `dns:${value.toLowerCase()}`;
      if (kind === "IP Address") return `ip:${value.toLowerCase()}`;
      return "";
    })
    .filter((v) => v !== "");
}

function sanKey(host: string): string {
  return isIP(host) ? `ip:${host.toLowerCase()}` : `dns:${host.toLowerCase()}`;
}
