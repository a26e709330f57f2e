import type { Logger } from "../../common/log.js";
import type { VipKeeper } from "./keeper.js";

export interface VipSelfDropDeps {
  keeper: Pick<VipKeeper, "forceDrop">;
  log: Logger;
  /** Consecutive failures after which the VIP is dropped (spec 3.5: 2). */
  threshold?: number;
  /** Contact is back after a drop: ask the control plane again (AmIVIPHolder) and converge. */
  recheck(): void;
}

/**
 * A node that cannot reach the control plane must not keep the VIP, because the control plane
 * will hand it to someone else. Counts consecutive failed heartbeats ACROSS connections (a
 * failed dial counts too, so a node whose stream broke before two heartbeats failed still
 * drops it), drops the VIP at the threshold and on every further failure, and asks again once
 * a heartbeat succeeds after a drop (the original stayed unbound until its next session).
 */
export class VipSelfDrop {
  private failures = 0;
  private dropped = false;

  constructor(private readonly deps: VipSelfDropDeps) {}

  get consecutiveFailures(): number {
    return this.failures;
  }

  failed(): void {
    this.failures += 1;
    if (this.failures < (this.deps.threshold ?? 2)) return;
    const reason = `${this.failures} consecutive heartbeat failures`;
    void this.deps.keeper.forceDrop(reason).then((dropped) => {
      if (dropped) this.dropped = true;
    });
  }

  succeeded(): void {
    this.failures = 0;
    if (!this.dropped) return;
    this.dropped = false;
    this.deps.log.info("control plane reachable again after a VIP self-drop; asking who holds it");
    this.deps.recheck();
  }

  /** An authoritative answer was applied: nothing left to recheck. */
  confirmed(): void {
    this.failures = 0;
    this.dropped = false;
  }
}
