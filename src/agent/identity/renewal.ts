import { errorMessage, RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { type CertificateInfo, certificateInfo, generateNodeKeyAndCsr } from "../../common/pki.js";
import type { Paths } from "../host/paths.js";
import { createL2Client, describeGrpcError } from "../link/clients.js";
import { endpointFromConfig, hostPort } from "../link/endpoints.js";
import { sendNodelog } from "../link/nodelog.js";
import { loadConfig } from "./config.js";
import {
  backupIdentity,
  identityPaths,
  readIdentity,
  removeBackup,
  restoreIdentity,
  writeIdentity,
} from "./files.js";
import { machineHostname } from "./machine.js";

/** True once `fraction` of the certificate's lifetime has passed (or it has expired). */
export function renewalDue(info: CertificateInfo, now: number, fraction: number): boolean {
  const lifetime = info.notAfter.getTime() - info.notBefore.getTime();
  return now >= info.notBefore.getTime() + lifetime * fraction;
}

/** When the next renewal is due, in ms from now (0 if due already). */
export function msUntilRenewal(info: CertificateInfo, now: number, fraction: number): number {
  const lifetime = info.notAfter.getTime() - info.notBefore.getTime();
  return Math.max(0, info.notBefore.getTime() + lifetime * fraction - now);
}

export interface RenewResult {
  serial: string;
  notAfter: string;
  previousSerial: string;
}

/**
 * Renews the client certificate with a new key made here (spec 5.4 with a CSR): backup, request,
 * write, prove the new identity works with a node log, and restore the backup on any failure.
 */
export async function renewCertificate(paths: Paths, log: Logger): Promise<RenewResult> {
  const config = loadConfig(paths);
  const files = identityPaths(paths, config);
  const endpoint = endpointFromConfig(config);
  const current = await readIdentity(files);
  const previousSerial = certificateInfo(current.certPem).serial;
  const backupDir = await backupIdentity(files, paths.onRoot("/etc/runos/backup"));
  try {
    const { keyPem, csrPem } = await generateNodeKeyAndCsr(machineHostname());
    const client = createL2Client(endpoint, current);
    let response: Awaited<ReturnType<typeof client.regenerateCertificate>>;
    try {
      response = await client.regenerateCertificate({ csr: csrPem }, { deadlineMs: 30_000 });
    } catch (err) {
      throw describeGrpcError(err, hostPort(endpoint.host, endpoint.l2Port));
    } finally {
      client.close();
    }
    const next = {
      caPem: response.caCert || current.caPem,
      certPem: response.publicKey,
      keyPem: response.privateKey || keyPem,
    };
    await writeIdentity(files, next);
    const probe = createL2Client(endpoint, next);
    const ok = await sendNodelog(
      probe,
      { type: "CertificateRenewal", severity: 3, message: "Certificate renewed successfully" },
      log,
    );
    probe.close();
    if (!ok)
      throw new RunosError(
        "NA_CERT_INVALID",
        "the renewed certificate was not accepted by the control plane",
      );
    await removeBackup(backupDir);
    const info = certificateInfo(next.certPem);
    log.info(
      { serial: info.serial, notAfter: info.notAfter.toISOString(), previousSerial },
      "certificate renewed",
    );
    return { serial: info.serial, notAfter: info.notAfter.toISOString(), previousSerial };
  } catch (err) {
    try {
      await restoreIdentity(files, backupDir);
      await removeBackup(backupDir);
    } catch (restoreErr) {
      log.error({ backupDir, err: errorMessage(restoreErr) }, "restoring the certificate backup failed");
      throw new RunosError(
        "NA_CERT_INVALID",
        `renewal failed and the backup could not be restored: ${errorMessage(err)}`,
        {
          hint: `restore the files manually from ${backupDir}`,
          cause: err,
        },
      );
    }
    throw err;
  }
}
