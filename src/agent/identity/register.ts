import { setTimeout as sleep } from "node:timers/promises";
import { writeFileAtomic } from "../../common/atomic-file.js";
import { RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { certificateInfo, generateNodeKeyAndCsr } from "../../common/pki.js";
import { grpc } from "../../wire/grpc.js";
import { retryHint } from "../daemon/session.js";
import type { Paths } from "../host/paths.js";
import { createL1Client, createL2Client, describeGrpcError } from "../link/clients.js";
import { type ControlPlaneEndpoint, hostPort } from "../link/endpoints.js";
import { resolveL1Trust } from "../link/l1-trust.js";
import { sendNodelog } from "../link/nodelog.js";
import { loadConfig, updateConfig } from "./config.js";
import { identityPaths, writeIdentity } from "./files.js";
import { machineHostname, readMachineId, readOsId } from "./machine.js";

export interface RegisterInput {
  server: string;
  aid: string;
  token: string;
  caHash?: string;
  l1Port?: number;
  l2Port?: number;
}

export interface RegisterResult {
  nid: string;
  aid: string;
  server: string;
  notAfter: string;
  caTrust: "file" | "pinned-hash";
  keyGeneratedOnNode: boolean;
}

/**
 * Enrolment (spec 5.1) with the key generated here: only a CSR crosses the wire. Nothing is
 * written unless the control plane accepted the token and returned a valid certificate.
 */
export async function registerNode(paths: Paths, input: RegisterInput, log: Logger): Promise<RegisterResult> {
  for (const [flag, value] of [
    ["--server", input.server],
    ["--token", input.token],
    ["--aid", input.aid],
  ] as const) {
    if (value.trim() === "") throw new RunosError("NA_USAGE", `${flag} must not be empty`);
  }
  const config = loadConfig(paths);
  const endpoint: ControlPlaneEndpoint = {
    host: input.server.trim(),
    l1Port: input.l1Port ?? config.client.server["l1-port"],
    l2Port: input.l2Port ?? config.client.server["l2-port"],
  };
  const machineId = readMachineId(paths);
  const caFile = paths.onRoot(config.mtls["public-ca"]);
  const trust = await resolveL1Trust({
    endpoint,
    caFile,
    caHash: input.caHash,
    fileBytesSha256: config.mtls["public-ca-sha256"],
  });
  log.info({ server: endpoint.host, trust: trust.source }, "L1Sec CA trusted");

  const hostname = machineHostname();
  const { keyPem, csrPem } = await generateNodeKeyAndCsr(hostname);
  const l1 = createL1Client(endpoint, trust.caPem);
  let response: Awaited<ReturnType<typeof l1.register>>;
  try {
    response = await registerPatiently(
      () =>
        l1.register(
          {
            machineId,
            aid: input.aid.trim(),
            token: input.token.trim(),
            os: readOsId(paths),
            csr: csrPem,
            hostname,
          },
          { deadlineMs: 30_000 },
        ),
      log,
    );
  } catch (err) {
    throw describeGrpcError(err, hostPort(endpoint.host, endpoint.l1Port));
  } finally {
    l1.close();
  }
  if (!response.nid || !response.publicKey || !response.caCert) {
    throw new RunosError("NA_INTERNAL", "the control plane's registration answer is incomplete");
  }
  const keyGeneratedOnNode = response.privateKey === "";
  const identity = {
    caPem: response.caCert,
    certPem: response.publicKey,
    keyPem: keyGeneratedOnNode ? keyPem : response.privateKey,
  };
  const files = identityPaths(paths, config);
  await writeIdentity(files, identity);
  if (trust.source === "pinned-hash") await writeFileAtomic(caFile, trust.caPem, { mode: 0o644 });
  await updateConfig(paths, {
    "client.aid": input.aid.trim(),
    "client.server.nodeward": endpoint.host,
    "client.server.l1-port": endpoint.l1Port,
    "client.server.l2-port": endpoint.l2Port,
    "node.nid": response.nid,
  });
  log.info({ nid: response.nid, keyGeneratedOnNode }, "node registered");

  const l2 = createL2Client(endpoint, identity);
  await sendNodelog(
    l2,
    { type: "NodeInstallation", severity: 3, message: "Node agent has been registered." },
    log,
  );
  l2.close();
  return {
    nid: response.nid,
    aid: input.aid.trim(),
    server: endpoint.host,
    notAfter: certificateInfo(identity.certPem).notAfter.toISOString(),
    caTrust: trust.source,
    keyGeneratedOnNode,
  };
}

/** Attempts at most; a busy control plane (RESOURCE_EXHAUSTED) names when to come back. */
const busyAttempts = 10;

/** Retries only "busy, come back later": nothing was stored, so asking again is safe. */
export async function registerPatiently<T>(attempt: () => Promise<T>, log: Logger): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== grpc.status.RESOURCE_EXHAUSTED || n >= busyAttempts) throw err;
      const waitMs = retryHint(err) || 2_000;
      log.info({ waitMs, attempt: n }, "the control plane is busy registering other machines; waiting");
      await sleep(waitMs);
    }
  }
}
