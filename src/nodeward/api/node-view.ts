import type { PresenceView } from "../hub/presence.js";
import type { Session } from "../hub/session.js";
import type { CertificateRecord, NodelogRecord, NodeRecord } from "../store/repository.js";

const iso = (time: number | null) => (time === null ? null : new Date(time).toISOString());

export type NodeState = "online" | "offline" | "deleted" | "replaced";

/** A node as the API shows it: what the store knows plus live presence and session facts. */
export function nodeView(node: NodeRecord, presence: PresenceView, session: Session | undefined) {
  const state: NodeState = node.replacedBy
    ? "replaced"
    : node.deletedAt !== null
      ? "deleted"
      : presence.online
        ? "online"
        : "offline";
  return {
    nid: node.nid,
    aid: node.aid,
    cluster: node.cluster,
    hostname: node.hostname,
    os: node.os,
    machineId: node.machineId,
    state,
    online: state === "online",
    connected: presence.connected,
    lastHeartbeatAt: iso(presence.lastHeartbeatAt ?? node.lastSeenAt),
    observedAddr: presence.observedAddr ?? node.observedAddr,
    version: node.version,
    isCp: node.isCp,
    isWorker: node.isWorker,
    k8sStatus: node.k8sStatus,
    externalIp: node.externalIp,
    nodeIp: node.nodeIp,
    vpnIp: node.vpnIp,
    vpnPubKey: node.vpnPubKey,
    overlayIp: node.overlayIp,
    role: node.role,
    listenPort: node.listenPort,
    vpnEndpoint: node.vpnEndpoint,
    installStatus: node.installStatus,
    installStatusAt: iso(node.installStatusAt),
    createdAt: iso(node.createdAt),
    deletedAt: iso(node.deletedAt),
    replacedBy: node.replacedBy,
    agent: session ? { version: session.agentVersion ?? null, capabilities: session.capabilities } : null,
  };
}
export type NodeView = ReturnType<typeof nodeView>;

export function certificateView(cert: CertificateRecord) {
  return {
    serial: cert.serial,
    notBefore: iso(cert.notBefore),
    notAfter: iso(cert.notAfter),
    createdAt: iso(cert.createdAt),
    revokedAt: iso(cert.revokedAt),
    supersededAt: iso(cert.supersededAt),
  };
}

export function nodelogView(entry: NodelogRecord) {
  return {
    time: iso(entry.time),
    type: entry.type,
    severity: entry.severity,
    message: entry.message,
    code: entry.code,
    cause: entry.cause,
    remedy: entry.remedy,
    docsUrl: entry.docsUrl,
  };
}
