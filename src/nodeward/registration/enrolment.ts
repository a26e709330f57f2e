import type { Clock } from "../../common/clock.js";
import { RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { CertificateAuthority, IssuedCert } from "../../common/pki.js";
import { normaliseSerial } from "../../common/pki.js";
import { allocateNodeAddress, clusterIndices } from "../cluster/ipam.js";
import type { Repository } from "../store/repository.js";
import { newNid } from "./node-ids.js";
import { hashToken, judgeToken, type TokenVerdict } from "./tokens.js";

export interface EnrolmentDeps {
  store: Repository;
  ca: CertificateAuthority;
  clock: Clock;
  certTtlMs: number;
  log: Logger;
  /** Nodes a re-registration replaced: their live sessions must end. */
  onNodesRetired(nids: readonly string[], reason: string): void;
  nid?: () => string;
}

export interface EnrolRequest {
  machineId: string;
  aid: string;
  token: string;
  os: string;
  /** PEM PKCS#10 for a key made on the node; empty for an original agent. */
  csr: string;
  hostname: string;
}

export interface Enrolment {
  nid: string;
  certPem: string;
  /** PKCS#1 RSA key made here for an original agent; empty on the CSR path. */
  keyPem: string;
  caCertPem: string;
  replaced: string[];
}

export const tokenInvalidMessage =
  "the enrolment token was not accepted: it is unknown, used up, or not issued for this account";
export const tokenExpiredMessage = "the enrolment token has expired; create a new one";

/**
 * Register (L1Sec): check the token, sign, then in ONE transaction take a token use, retire
 * earlier nodes of the same machine, and record the node and its certificate. The token is
 * checked before signing (no signing work for strangers) and again inside the transaction
 * (two registrations racing for the last use: one wins, the other stores nothing).
 */
export async function enrolNode(deps: EnrolmentDeps, raw: EnrolRequest): Promise<Enrolment> {
  const request = validate(raw);
  const tokenHash = hashToken(request.token);
  refuseUnlessOk(judgeToken(await deps.store.findToken(tokenHash), request.aid, deps.clock.now()));

  const nid = (deps.nid ?? newNid)();
  const issued: IssuedCert & { keyPem?: string } = request.csr
    ? await deps.ca.signNodeCsr(request.csr, nid, deps.certTtlMs)
    : await deps.ca.issueNodeKeyAndCert(nid, deps.certTtlMs);

  const replaced = await deps.store.transaction(async (tx) => {
    const now = deps.clock.now();
    const verdict = judgeToken(await tx.findToken(tokenHash), request.aid, now);
    refuseUnlessOk(verdict);
    if (!(await tx.consumeToken(tokenHash))) {
      throw new RunosError("NA_TOKEN_REJECTED", tokenInvalidMessage);
    }
    const previous = await tx.liveNodesOfMachine(request.aid, request.machineId);
    for (const old of previous) {
      await tx.markNodeReplaced(old.nid, nid);
      await tx.revokeCertificatesOf(old.nid, now);
    }
    await tx.ensureCluster(request.aid, verdict.token.cluster, now);
    await tx.insertNode({
      nid,
      aid: request.aid,
      cluster: verdict.token.cluster,
      machineId: request.machineId,
      os: request.os,
      hostname: request.hostname,
      createdAt: now,
    });
    if (verdict.token.role === "control-plane") await tx.setRole(nid, "control-plane");
    // Overlay address, in the same transaction: concurrent registrations never share one.
    const idx = await tx.assignClusterIndex(request.aid, verdict.token.cluster, clusterIndices);
    await tx.setOverlayIp(
      nid,
      allocateNodeAddress(idx, await tx.usedOverlayIps(request.aid, verdict.token.cluster)),
    );
    await tx.insertCertificate({
      serial: normaliseSerial(issued.serial),
      nid,
      notBefore: issued.notBefore.getTime(),
      notAfter: issued.notAfter.getTime(),
      createdAt: now,
      revokedAt: null,
      supersededAt: null,
    });
    await tx.addNodelog({
      nid,
      time: now,
      type: "NodeRegistration",
      severity: 3,
      message: previous.length
        ? `Node registered (replaces ${previous.map((n) => n.nid).join(", ")})`
        : "Node registered",
      code: "",
      cause: "",
      remedy: "",
      docsUrl: "",
    });
    return previous.map((n) => n.nid);
  });

  if (replaced.length) deps.onNodesRetired(replaced, `replaced by ${nid}`);
  deps.log.info(
    { nid, aid: request.aid, os: request.os, csr: request.csr !== "", replaced },
    "node registered",
  );
  return { nid, certPem: issued.certPem, keyPem: issued.keyPem ?? "", caCertPem: deps.ca.certPem, replaced };
}

function refuseUnlessOk(verdict: TokenVerdict): asserts verdict is Extract<TokenVerdict, { ok: true }> {
  if (verdict.ok) return;
  throw new RunosError(
    "NA_TOKEN_REJECTED",
    verdict.reason === "expired" ? tokenExpiredMessage : tokenInvalidMessage,
  );
}

const limits = { machineId: 256, aid: 128, token: 512, os: 128, hostname: 253, csr: 16 * 1024 };

function validate(raw: EnrolRequest): EnrolRequest {
  const request = {
    machineId: raw.machineId.trim(),
    aid: raw.aid.trim(),
    token: raw.token.trim(),
    os: raw.os.trim() || "unknown",
    csr: raw.csr.trim(),
    hostname: raw.hostname.trim(),
  };
  const missing = (["machineId", "aid", "token"] as const).filter((k) => request[k] === "");
  if (missing.length) {
    throw new RunosError(
      "NA_INVALID_INPUT",
      `missing required field${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`,
    );
  }
  for (const [key, max] of Object.entries(limits)) {
    if (request[key as keyof EnrolRequest].length > max) {
      throw new RunosError("NA_INVALID_INPUT", `field ${key} is longer than ${max} characters`);
    }
  }
  return request;
}
