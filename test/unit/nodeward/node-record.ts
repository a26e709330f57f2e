import type { NodeRecord } from "../../../src/nodeward/store/repository.js";

/** A live node record with every field at its empty value, overridden by `fields`. */
export function nodeRecord(nid: string, fields: Partial<NodeRecord> = {}): NodeRecord {
  return {
    nid,
    aid: "acme",
    cluster: "c",
    machineId: nid,
    os: "debian-12",
    hostname: nid,
    createdAt: 0,
    version: null,
    isCp: false,
    isWorker: false,
    k8sStatus: null,
    externalIp: null,
    nodeIp: null,
    vpnIp: null,
    deletedAt: null,
    replacedBy: null,
    lastSeenAt: null,
    observedAddr: null,
    installStatus: null,
    installStatusAt: null,
    vpnPubKey: null,
    vpnEndpoint: null,
    nodeIsReady: false,
    overlayIp: null,
    listenPort: null,
    installIp: null,
    role: "worker",
    podCidr: null,
    ...fields,
  };
}
