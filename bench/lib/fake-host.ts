import { createHash } from "node:crypto";
import type { PeerStore, StoredPeers } from "../../src/agent/host/peer-store.js";
import type { HostPorts } from "../../src/agent/host/ports.js";
import type { WireGuardPort } from "../../src/agent/host/wireguard.js";
import type { WgPeer } from "../../src/agent/host/wireguard-plan.js";
import { agentVersion } from "../../src/agent/version.js";

/** What a simulated node says about itself; derived from its nid, so every run agrees. */
export interface NodeFacts {
  hostname: string;
  nodeIp: string;
  /** WireGuard public key (44 characters of base64), registered through ManualSync. */
  wgPublicKey: string;
  wgIpv4: string;
}

export function nodeFacts(nid: string): NodeFacts {
  const h = createHash("sha256").update(`runos-bench:${nid}`).digest();
  return {
    hostname: `bench-${nid}`,
    nodeIp: `10.${100 + ((h[0] ?? 0) % 100)}.${h[1] ?? 0}.${1 + ((h[2] ?? 0) % 254)}`,
    wgPublicKey: h.toString("base64"),
    wgIpv4: `172.31.${h[3] ?? 0}.${1 + ((h[4] ?? 0) % 254)}`,
  };
}

/** wg0 and wg1 in memory: keep the applied peers, as a node with WireGuard installed would. */
function memoryWireGuard(facts: NodeFacts): WireGuardPort {
  const devices = new Map<string, WgPeer[]>([
    ["wg0", []],
    ["wg1", []],
  ]);
  return {
    interfaceExists: (iface) => devices.has(iface),
    interfaceIpv4: (iface) => (iface === "wg0" ? facts.wgIpv4 : iface === "wg1" ? "172.24.200.1" : ""),
    publicKey: async () => facts.wgPublicKey,
    peers: async (iface) =>
      (devices.get(iface) ?? []).map((p) => ({ ...p, lastHandshake: undefined, rxBytes: 0, txBytes: 0 })),
    applyChanges: async (iface, changes) => {
      const peers = new Map((devices.get(iface) ?? []).map((p) => [p.publicKey, p]));
      for (const change of changes) {
        if (change.kind === "remove") peers.delete(change.publicKey);
        else peers.set(change.peer.publicKey, change.peer);
      }
      devices.set(iface, [...peers.values()]);
    },
    applyPeers: async (iface, desired) => {
      const before = new Set((devices.get(iface) ?? []).map((p) => p.publicKey));
      devices.set(iface, [...desired]);
      const added = desired.filter((p) => !before.has(p.publicKey)).length;
      const removed = before.size - (desired.length - added);
      return { added, updated: 0, removed, unchanged: desired.length - added, via: "uapi" };
    },
  };
}

const absent = async (): Promise<never> => {
  throw new Error("wg0 interface not found (is WireGuard installed and up? try `wg show`)");
};

/**
 * A node with nothing on it but, optionally, WireGuard: no Kubernetes, no real interfaces.
 * Enough for GET_NODE_STATUS, SET_VPN_PEERS and the heartbeat facts.
 */
export function benchHost(facts: NodeFacts, wireguard: boolean): HostPorts {
  const startedAt = Date.now();
  const saved = new Map<string, StoredPeers>();
  const peerStore: PeerStore = {
    load: async (iface) => saved.get(iface),
    save: async (iface, peers, fullState) => {
      saved.set(iface, { iface, peers, fullState, appliedAt: new Date().toISOString() });
    },
  };
  return {
    kube: {
      nodeIsReady: async () => false,
      facts: async () => ({ installed: false, isCp: false, isWorker: false, status: "not_installed" }),
    },
    system: {
      hostname: () => facts.hostname,
      agentVersion: () => agentVersion,
      uptimeSeconds: () => Math.round((Date.now() - startedAt) / 1000),
      interfaceIpv4: (name) => (wireguard && name === "wg0" ? facts.wgIpv4 : ""),
    },
    wireguard: wireguard
      ? memoryWireGuard(facts)
      : {
          interfaceExists: () => false,
          interfaceIpv4: () => "",
          publicKey: async () => "",
          peers: absent,
          applyChanges: absent,
          applyPeers: absent,
        },
    peerStore,
    // host routes for wg1 users through wg0: nothing to program in memory
    routes: { syncHostRoutes: async (_dev, desired) => ({ added: desired.length, removed: 0 }) },
  };
}
