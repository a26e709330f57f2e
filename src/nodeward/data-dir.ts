import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../common/log.js";
import { certificateHash } from "../common/pem.js";
import type { CertificateAuthority } from "../common/pki.js";
import { adminTokenFile, loadOrCreateAdminToken } from "./ca/admin-token.js";
import { loadOrCreateCa } from "./ca/ca-files.js";
import { ensureServerCert, type ServerCert } from "./ca/server-cert.js";

export function dataDirPaths(dir: string) {
  return {
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    serverCert: join(dir, "server.crt"),
    serverKey: join(dir, "server.key"),
    adminToken: join(dir, adminTokenFile),
    database: join(dir, "nodeward.db"),
  };
}

export interface PreparedDataDir {
  ca: CertificateAuthority;
  caCertPem: string;
  /** `sha256:<hex>` of the CA's DER, the value install commands pin. */
  caHash: string;
  serverCert: ServerCert;
  adminToken: string;
  databasePath: string;
}

/** First start creates everything; later starts reuse it and reissue only what went stale. */
export async function prepareDataDir(
  dir: string,
  hosts: readonly string[],
  now: number,
  log: Logger,
): Promise<PreparedDataDir> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = dataDirPaths(dir);
  const ca = await loadOrCreateCa({ certPath: paths.caCert, keyPath: paths.caKey }, log);
  const serverCert = await ensureServerCert(
    ca,
    hosts,
    { certPath: paths.serverCert, keyPath: paths.serverKey },
    now,
    log,
  );
  const adminToken = await loadOrCreateAdminToken(paths.adminToken);
  return {
    ca,
    caCertPem: ca.certPem,
    caHash: certificateHash(ca.certPem),
    serverCert,
    adminToken,
    databasePath: paths.database,
  };
}
