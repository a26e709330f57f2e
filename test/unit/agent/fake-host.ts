import type { PeerStore, StoredPeers } from "../../../src/agent/host/peer-store.js";
import type { HostPorts } from "../../../src/agent/host/ports.js";
import type { ApplyPeersResult, WgPeerStatus, WireGuardPort } from "../../../src/agent/host/wireguard.js";
import { type PeerChange, planPeerChanges } from "../../../src/agent/host/wireguard-plan.js";
import { silentLogger } from "../../../src/common/log.js";

/** An in-memory WireGuard device: applies plans like the real port and counts transactions. */
export class FakeWireGuard implements WireGuardPort {
  readonly devices = new Map<string, Map<string, WgPeerStatus>>();
  transactions = 0;
  constructor(
    readonly ipv4 = "172.24.1.1",
    readonly key = "kS0aJ8a4Qk3n7C3qJXK0pVv7fD0f8m4cM9m2b1q1xQk=",
  ) {}
  createInterface(iface: string): void {
    this.devices.set(iface, new Map());
  }
  interfaceExists(iface: string): boolean {
    return this.devices.has(iface);
  }
  interfaceIpv4(iface: string): string {
    return this.devices.has(iface) ? this.ipv4 : "";
  }
  async publicKey(): Promise<string> {
    return this.key;
  }
  async peers(iface: string): Promise<WgPeerStatus[]> {
    return [...(this.devices.get(iface)?.values() ?? [])];
  }
  async applyChanges(iface: string, changes: PeerChange[]): Promise<void> {
    const device = this.devices.get(iface);
    if (!device) throw new Error(`no ${iface}`);
    for (const change of changes) {
      if (change.kind === "remove") device.delete(change.publicKey);
      else {
        const before = device.get(change.peer.publicKey);
        device.set(change.peer.publicKey, {
          ...change.peer,
          lastHandshake: before?.lastHandshake,
          rxBytes: 0,
          txBytes: 0,
        });
      }
    }
    if (changes.length > 0) this.transactions += 1;
  }
  async applyPeers(
    iface: string,
    desired: Parameters<WireGuardPort["applyPeers"]>[1],
    options: Parameters<WireGuardPort["applyPeers"]>[2],
  ): Promise<ApplyPeersResult> {
    const device = this.devices.get(iface);
    if (!device) throw new Error(`no ${iface}`);
    const changes = planPeerChanges([...device.values()], desired, options.previous, options.removeOthers);
    for (const change of changes) {
      if (change.kind === "remove") device.delete(change.publicKey);
      else {
        const before = device.get(change.peer.publicKey);
        device.set(change.peer.publicKey, {
          ...change.peer,
          endpoint:
            change.kind === "add" || change.endpoint ? change.peer.endpoint : (before?.endpoint ?? ""),
          lastHandshake: before?.lastHandshake,
          rxBytes: before?.rxBytes ?? 0,
          txBytes: before?.txBytes ?? 0,
        });
      }
    }
    if (changes.length > 0) this.transactions += 1;
    const count = (k: string) => changes.filter((c) => c.kind === k).length;
    return {
      added: count("add"),
      updated: count("update"),
      removed: count("remove"),
      unchanged: desired.length - count("add") - count("update"),
      via: changes.length ? "uapi" : "none",
    };
  }
}

export class FakePeerStore implements PeerStore {
  readonly saved = new Map<string, StoredPeers>();
  async load(iface: string) {
    return this.saved.get(iface);
  }
  async save(iface: string, peers: StoredPeers["peers"], fullState: boolean) {
    this.saved.set(iface, { iface, peers, fullState, appliedAt: new Date().toISOString() });
  }
}

/** A working in-memory host for unit tests. */
export function createFakeHost(overrides: Partial<HostPorts> = {}): HostPorts {
  return {
    kube: {
      nodeIsReady: async () => false,
      facts: async () => ({ installed: false, isCp: false, isWorker: false, status: "not_installed" }),
    },
    system: {
      hostname: () => "fake-host",
      agentVersion: () => "0.0.0-test",
      uptimeSeconds: () => 1,
      interfaceIpv4: () => "",
    },
    wireguard: new FakeWireGuard(),
    peerStore: new FakePeerStore(),
    routes: { syncHostRoutes: async () => ({ added: 0, removed: 0 }) },
    ...overrides,
  };
}

/** Three valid WireGuard public keys for peer tests. */
export const testKeys = [
  "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
  "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
  "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=",
] as const;

/** A fake host with wg0 up, and the context a handler gets. */
export function wireguardHandlerSetup() {
  const wireguard = new FakeWireGuard();
  wireguard.createInterface("wg0");
  const host = createFakeHost({ wireguard });
  const ctx = {
    host,
    tag: "t",
    log: silentLogger(),
    signal: new AbortController().signal,
    node: () => ({ nid: "n1", ip: "198.18.0.10" }),
  };
  return { wireguard, host, ctx };
}
