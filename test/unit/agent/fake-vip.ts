import type { InterfaceState, VipPort } from "../../../src/agent/host/vip.js";
import { emptyVipState, type VipState, type VipStateStore } from "../../../src/agent/host/vip-state.js";

/** In-memory interfaces: `ip addr` on them, with the calls recorded and failures on demand. */
export class FakeVipPort implements VipPort {
  readonly links = new Map<string, { linkType: string; ipv4: string[] }>();
  readonly calls: string[] = [];
  failBind: Error | undefined;
  failUnbind: Error | undefined;

  constructor(wg0 = "172.24.3.7/24") {
    if (wg0) this.links.set("wg0", { linkType: "none", ipv4: [wg0] });
  }

  addLink(iface: string, linkType: string, ipv4: string[] = []): this {
    this.links.set(iface, { linkType, ipv4 });
    return this;
  }

  holds(iface: string, address: string): boolean {
    return this.links.get(iface)?.ipv4.includes(`${address}/32`) ?? false;
  }

  /** Calls that changed something (bind/unbind/announce), not the inspections. */
  get changes(): string[] {
    return this.calls.filter((c) => !c.startsWith("inspect"));
  }

  async inspect(iface: string): Promise<InterfaceState | undefined> {
    this.calls.push(`inspect ${iface}`);
    const link = this.links.get(iface);
    return link ? { linkType: link.linkType, ipv4: [...link.ipv4] } : undefined;
  }

  async bind(iface: string, address: string): Promise<void> {
    this.calls.push(`bind ${iface} ${address}`);
    if (this.failBind) throw this.failBind;
    const link = this.links.get(iface);
    if (!link) throw new Error(`Cannot find device "${iface}"`);
    if (!link.ipv4.includes(`${address}/32`)) link.ipv4.push(`${address}/32`);
  }

  async unbind(iface: string, address: string): Promise<void> {
    this.calls.push(`unbind ${iface} ${address}`);
    if (this.failUnbind) throw this.failUnbind;
    const link = this.links.get(iface);
    if (link) link.ipv4 = link.ipv4.filter((a) => a !== `${address}/32`);
  }

  async announce(iface: string, address: string): Promise<void> {
    this.calls.push(`announce ${iface} ${address}`);
  }
}

export class FakeVipState implements VipStateStore {
  readonly path = "/var/lib/runos/vip/state.json";
  state: VipState = { ...emptyVipState };
  saves = 0;
  async load(): Promise<VipState> {
    return structuredClone(this.state);
  }
  async save(state: VipState): Promise<void> {
    this.saves += 1;
    this.state = structuredClone(state);
  }
}
