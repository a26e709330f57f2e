import { errorMessage, RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { VipPort } from "../host/vip.js";
import type { VipBinding, VipState, VipStateStore } from "../host/vip-state.js";
import { chooseVipAddress, overlayInterface, sameBinding, type VipSettings } from "./target.js";

export interface VipKeeperDeps {
  port: VipPort;
  state: VipStateStore;
  /** Read on every operation, so a changed config.yaml applies at the next one. */
  settings(): VipSettings;
  log: Logger;
}

/** `applied: false` = fenced off (stale generation): nothing on the machine was touched. */
export type VipOutcome = { applied: true; holding: boolean } | { applied: false; reason: string };

/** The control plane's session-start answer (AmIVIPHolder). */
export interface HolderAnswer {
  isHolder: boolean;
  generation: number;
  vip?: string;
}

/**
 * The node's side of the control-plane VIP (spec 7.6, with corrections): one operation at a
 * time, fenced by a generation that is persisted, so a replayed or delayed instruction can
 * never bind the VIP behind a newer holder's back, before or after a restart.
 */
export class VipKeeper {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: VipKeeperDeps) {}

  /** VIP_ASSIGN: binds unless stale. Throws when binding failed (the generation is not advanced). */
  assign(generation: number, vip?: string): Promise<VipOutcome> {
    return this.exclusive(async () => {
      const state = await this.deps.state.load();
      if (generation <= state.generation) return stale("assign", generation, state);
      const target = await this.target(vip);
      await this.hold(state.bound, target);
      await this.deps.state.save({ generation, bound: target });
      this.deps.log.info({ generation, ...target }, "VIP bound");
      return { applied: true, holding: true };
    });
  }

  /** VIP_RELEASE: unbinds unless stale. Throws when unbinding failed. */
  release(generation: number, vip?: string): Promise<VipOutcome> {
    return this.exclusive(async () => {
      const state = await this.deps.state.load();
      if (generation <= state.generation) return stale("release", generation, state);
      const dropped = await this.drop(state.bound, vip);
      await this.deps.state.save({ generation, bound: null });
      this.deps.log.info({ generation, dropped }, "VIP released");
      return { applied: true, holding: false };
    });
  }

  /**
   * Session start: the control plane's answer is authoritative (no freshness check), except
   * that a holder answer older than what this node already applied is not trusted to bind.
   */
  converge(answer: HolderAnswer): Promise<VipOutcome> {
    return this.exclusive(async () => {
      const state = await this.deps.state.load();
      if (answer.isHolder && answer.generation >= state.generation) {
        const target = await this.target(answer.vip);
        await this.hold(state.bound, target);
        await this.deps.state.save({ generation: answer.generation, bound: target });
        this.deps.log.info({ generation: answer.generation, ...target }, "VIP held (control plane says so)");
        return { applied: true, holding: true };
      }
      if (answer.isHolder) {
        this.deps.log.warn(
          { generation: answer.generation, applied: state.generation },
          "control plane names this node VIP holder with an older generation than applied here; not binding",
        );
      }
      const dropped = await this.drop(state.bound, answer.vip);
      await this.deps.state.save({ generation: Math.max(state.generation, answer.generation), bound: null });
      if (dropped) this.deps.log.info({ generation: answer.generation }, "VIP dropped: not the holder");
      return { applied: true, holding: false };
    });
  }

  /**
   * Self-fencing when the control plane is unreachable: unbinds whatever this agent bound and
   * leaves the generation alone (a later, higher assign binds again). Never throws; a missing
   * interface is ignored. True when an address was removed.
   */
  forceDrop(reason: string): Promise<boolean> {
    return this.exclusive(async () => {
      try {
        const state = await this.deps.state.load();
        const dropped = await this.drop(state.bound, undefined);
        if (state.bound) await this.deps.state.save({ generation: state.generation, bound: null });
        if (dropped) this.deps.log.warn({ reason }, "VIP dropped: control plane unreachable");
        return dropped;
      } catch (err) {
        this.deps.log.warn({ reason, err: errorMessage(err) }, "dropping the VIP failed");
        return false;
      }
    });
  }

  /** Where the VIP goes for this operation; undefined when no address is known. */
  private async named(vip: string | undefined): Promise<VipBinding | undefined> {
    const settings = this.deps.settings();
    const needsOverlay = !settings.address && !vip;
    const wg0 = needsOverlay ? await this.deps.port.inspect(overlayInterface) : undefined;
    const address = chooseVipAddress(settings, vip, wg0?.ipv4 ?? []);
    return address ? { iface: settings.iface, address } : undefined;
  }

  private async target(vip: string | undefined): Promise<VipBinding> {
    const target = await this.named(vip);
    if (target) return target;
    throw new RunosError(
      "NA_NOT_FOUND",
      `no VIP address: the control plane named none and ${overlayInterface} has no 172.24.X.Y address`,
      { hint: "install the VPN (`runos install wireguard`) or set vip.address" },
    );
  }

  /** Binds the target (moving it off a previous binding first) and announces it on layer 2. */
  private async hold(previous: VipBinding | null, target: VipBinding): Promise<void> {
    if (previous && !sameBinding(previous, target)) await this.unbindIfPresent(previous);
    const info = await this.deps.port.inspect(target.iface);
    if (!info) {
      throw new RunosError(
        "NA_NOT_FOUND",
        `interface ${target.iface} does not exist; cannot bind the VIP ${target.address}`,
        {
          hint:
            target.iface === overlayInterface
              ? "install the VPN (`runos install wireguard`)"
              : "check vip.interface in /etc/runos/config.yaml",
        },
      );
    }
    if (info.ipv4.includes(`${target.address}/32`)) return;
    await this.deps.port.bind(target.iface, target.address);
    if (info.linkType === "ether") this.announce(target);
  }

  /** Gratuitous ARP in the background: arping blocks for ~2 s and must not hold up the answer. */
  private announce(target: VipBinding): void {
    const started = Date.now();
    void this.deps.port.announce(target.iface, target.address).then(
      () =>
        this.deps.log.info({ ...target, ms: Date.now() - started }, "VIP move announced (gratuitous ARP)"),
      (err: unknown) => this.deps.log.warn({ ...target, err: errorMessage(err) }, "gratuitous ARP failed"),
    );
  }

  /** Removes what this agent bound and, if different, the address this operation names. */
  private async drop(bound: VipBinding | null, vip: string | undefined): Promise<boolean> {
    let dropped = bound ? await this.unbindIfPresent(bound) : false;
    const named = await this.named(vip);
    if (named && !sameBinding(named, bound)) dropped = (await this.unbindIfPresent(named)) || dropped;
    return dropped;
  }

  private async unbindIfPresent(binding: VipBinding): Promise<boolean> {
    const info = await this.deps.port.inspect(binding.iface);
    if (!info?.ipv4.includes(`${binding.address}/32`)) return false;
    await this.deps.port.unbind(binding.iface, binding.address);
    return true;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

function stale(what: string, generation: number, state: VipState): VipOutcome {
  return {
    applied: false,
    reason: `stale VIP ${what}: generation ${generation} is not newer than ${state.generation}, already applied on this node`,
  };
}
