import type { Selectable } from "kysely";
import type { CertificateRecord, NodeRecord } from "./repository.js";
import type { CertificatesTable, NodesTable } from "./schema.js";

/** Stored form <-> domain form: ISO text <-> epoch ms, 0/1 <-> boolean, snake_case <-> camelCase. */
export function iso(time: number): string {
  return new Date(time).toISOString();
}

export function isoOrNull(time: number | null): string | null {
  return time === null ? null : iso(time);
}

export function ms(text: string): number {
  return Date.parse(text);
}

export function msOrNull(text: string | null): number | null {
  return text === null ? null : ms(text);
}

export function toNode(row: Selectable<NodesTable>): NodeRecord {
  return {
    nid: row.nid,
    aid: row.aid,
    cluster: row.cluster,
    machineId: row.machine_id,
    os: row.os,
    hostname: row.hostname,
    createdAt: ms(row.created_at),
    deletedAt: msOrNull(row.deleted_at),
    replacedBy: row.replaced_by,
    lastSeenAt: msOrNull(row.last_seen_at),
    observedAddr: row.observed_addr,
    version: row.version,
    isCp: row.is_cp === 1,
    isWorker: row.is_worker === 1,
    k8sStatus: row.k8s_status,
    externalIp: row.external_ip,
    nodeIp: row.node_ip,
    vpnIp: row.vpn_ip,
    installStatus: row.install_status,
    installStatusAt: msOrNull(row.install_status_at),
    vpnPubKey: row.vpn_pub_key,
    vpnEndpoint: row.vpn_endpoint,
    nodeIsReady: row.node_is_ready === 1,
    overlayIp: row.overlay_ip,
    listenPort: row.listen_port,
    installIp: row.install_ip,
    role: row.role === "control-plane" ? "control-plane" : "worker",
    podCidr: row.pod_cidr,
  };
}

export function toCertificate(row: Selectable<CertificatesTable>): CertificateRecord {
  return {
    serial: row.serial,
    nid: row.nid,
    notBefore: ms(row.not_before),
    notAfter: ms(row.not_after),
    createdAt: ms(row.created_at),
    revokedAt: msOrNull(row.revoked_at),
    supersededAt: msOrNull(row.superseded_at),
  };
}
