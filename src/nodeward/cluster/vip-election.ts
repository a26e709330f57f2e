import type { Clock, Timer } from "../../common/clock.js";
import { errorMessage, RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { PresenceView } from "../hub/presence.js";
import type { InstructionAnswer } from "../hub/session.js";
import type { NodeRecord, Repository } from "../store/repository.js";
import { vipAddress } from "./ipam.js";

/** The part of the store the election uses. */
export type VipStore = Pick<Repository, "getCluster" | "getNode" | "liveNodesOfCluster" | "setVipHolder">;

export interface VipElectionDeps {
  store: VipStore;
  presence: { view(nid: string): PresenceView };
  /** Whether the node has an open stream (the hub). */
  connected(nid: string): boolean;
  /** Sends an instruction and waits for its answer (the hub). */
  request(nid: string, type: string, payload: unknown, timeoutMs: number): Promise<InstructionAnswer>;
  clock: Clock;
  log: Logger;
  /** The recorded holder changed: the overlay moves the VIP's route. */
  onHolderChanged(ref: ClusterRef): void;
  /**
   * How long after an unreachable holder's last heartbeat the VIP may move: it must outlast the
   * holder's own self-drop (2 failed heartbeats, docs/vip.md), or two nodes would hold it.
   */
  fenceMs: number;
  /** Spec 17 item 5: an assign not acknowledged within 5 s goes to the next candidate. */
  assignTimeoutMs?: number;
  /** The old holder's release is waited for at most 3 s. */
  releaseTimeoutMs?: number;
  /** A candidate that did not take the VIP is passed over this long; also the retry period. */
  retryMs?: number;
}

export interface ClusterRef {
  aid: string;
  cluster: string;
}

interface Run {
  again: boolean;
  done: Promise<void>;
}

/**
 * Chooses each cluster's VIP holder among its online control-plane nodes and moves it when the
 * holder stops being one (role change, deletion, unreachable). Every change takes a new,
 * strictly higher generation, persisted before the instruction carrying it is sent, and the
 * store records one holder or none. One evaluation per cluster runs at a time.
 */
export class VipElection {
  private readonly runs = new Map<string, Run>();
  private readonly wakeups = new Map<string, { at: number; timer: Timer }>();
  private readonly passedOver = new Map<string, number>();
  private readonly startedAt: number;
  private stopped = false;

  constructor(private readonly deps: VipElectionDeps) {
    this.startedAt = deps.clock.now();
  }

  /** Something about this node changed (presence, role, deletion): re-evaluate its cluster. */
  nodeChanged(node: string | { nid: string; aid: string; cluster: string }): void {
    if (this.stopped) return;
    if (typeof node !== "string") {
      void this.evaluate(node);
      return;
    }
    void this.deps.store.getNode(node).then(
      (record) => record && this.evaluate(record),
      (err: unknown) =>
        this.deps.log.warn({ nid: node, err: errorMessage(err) }, "VIP election lookup failed"),
    );
  }

  /**
   * A node came online or went offline. Only control-plane nodes can matter (a holder is one; a
   * demotion arrives through nodeChanged), so a reconnect storm of workers costs one lookup each.
   */
  presenceChanged(nid: string): void {
    if (this.stopped) return;
    void this.deps.store.getNode(nid).then(
      (record) => {
        if (record?.role === "control-plane") void this.evaluate(record);
      },
      (err: unknown) => this.deps.log.warn({ nid, err: errorMessage(err) }, "VIP election lookup failed"),
    );
  }

  /** Runs (or queues one more) evaluation of the cluster; resolves when none is pending. */
  evaluate(ref: ClusterRef): Promise<void> {
    const key = keyOf(ref);
    const running = this.runs.get(key);
    if (running) {
      running.again = true;
      return running.done;
    }
    const run: Run = { again: true, done: Promise.resolve() };
    this.runs.set(key, run);
    run.done = (async () => {
      try {
        while (run.again && !this.stopped) {
          run.again = false;
          try {
            await this.evaluateOnce({ aid: ref.aid, cluster: ref.cluster });
          } catch (err) {
            this.deps.log.warn({ ...ref, err: errorMessage(err) }, "VIP election round failed");
          }
        }
      } finally {
        this.runs.delete(key);
      }
    })();
    return run.done;
  }

  stop(): void {
    this.stopped = true;
    for (const wakeup of this.wakeups.values()) wakeup.timer.cancel();
    this.wakeups.clear();
  }

  private async evaluateOnce(ref: ClusterRef): Promise<void> {
    const cluster = await this.deps.store.getCluster(ref.aid, ref.cluster);
    if (!cluster || cluster.idx === null) return;
    const vip = vipAddress(cluster.idx);
    const nodes = await this.deps.store.liveNodesOfCluster(ref.aid, ref.cluster);
    const holderId = cluster.vipHolder;
    const holder = holderId ? nodes.find((n) => n.nid === holderId) : undefined;
    if (holder && isControlPlane(holder) && this.isUp(holder.nid)) return;

    const now = this.deps.clock.now();
    const candidates = nodes
      .filter((n) => n.nid !== holderId && isControlPlane(n) && this.isUp(n.nid))
      .sort((a, b) => a.createdAt - b.createdAt || a.nid.localeCompare(b.nid));
    const ready = candidates.filter((n) => (this.passedOver.get(n.nid) ?? 0) <= now);
    if (holder && isControlPlane(holder)) {
      // Unreachable, so it cannot be told: wait until it has surely dropped the VIP itself.
      const due = this.lastSignOfLife(holder.nid) + this.deps.fenceMs;
      if (now < due) return this.wakeAt(ref, due);
      // Nobody to take over: leave it recorded, it binds again when it comes back.
      if (ready.length === 0) return this.retryLater(ref, candidates);
    }
    if (!holderId && ready.length === 0) return this.retryLater(ref, candidates);

    let generation = cluster.vipGeneration;
    if (holderId) {
      generation = await this.record(ref, null, generation);
      this.deps.log.info(
        { ...ref, from: holderId, generation, why: why(holder) },
        "VIP holder stepping down",
      );
      // An online holder is waited for (it must be unbound before another binds); an
      // unreachable one is past its fence and told only in case it comes back.
      const release = this.release(holderId, generation, vip);
      if (holder && this.isUp(holder.nid)) await release;
    }
    for (const node of ready) {
      generation = await this.record(ref, node.nid, generation);
      if (await this.assign(node.nid, generation, vip)) {
        this.passedOver.delete(node.nid);
        this.deps.log.info({ ...ref, holder: node.nid, generation, vip }, "VIP holder elected");
        this.deps.onHolderChanged(ref);
        return;
      }
      this.passedOver.set(node.nid, this.deps.clock.now() + this.retryMs());
      generation = await this.record(ref, null, generation);
      void this.release(node.nid, generation, vip); // in case it bound after all
    }
    this.deps.onHolderChanged(ref);
    this.retryLater(ref, candidates);
  }

  private isUp(nid: string): boolean {
    return this.deps.presence.view(nid).online && this.deps.connected(nid);
  }

  /** Since nodeward started, if it has not heard from the node since. */
  private lastSignOfLife(nid: string): number {
    const view = this.deps.presence.view(nid);
    return Math.max(view.lastHeartbeatAt ?? 0, view.connectedAt ?? 0, this.startedAt);
  }

  /** Compare-and-set to a new generation; a concurrent change ends this round (it re-runs). */
  private async record(ref: ClusterRef, holder: string | null, expected: number): Promise<number> {
    const next = expected + 1;
    if (!(await this.deps.store.setVipHolder(ref.aid, ref.cluster, holder, next, expected))) {
      throw new RunosError("NA_CONFLICT", `the VIP record of ${keyOf(ref)} changed during the election`);
    }
    return next;
  }

  private async assign(nid: string, generation: number, vip: string): Promise<boolean> {
    const timeoutMs = this.deps.assignTimeoutMs ?? 5_000;
    try {
      const answer = await this.deps.request(nid, "VIP_ASSIGN", { generation, vip }, timeoutMs);
      const ok = answer.type === "VIP_ASSIGN_RESPONSE" && (answer.payload as { ok?: unknown })?.ok === true;
      if (!ok)
        this.deps.log.warn({ nid, generation, answer }, "VIP assign refused; trying the next candidate");
      return ok;
    } catch (err) {
      this.deps.log.warn({ nid, generation, err: errorMessage(err) }, "VIP assign not acknowledged");
      return false;
    }
  }

  /** Best effort: resolves (never rejects) with the answer or the reason there was none. */
  private async release(nid: string, generation: number, vip: string): Promise<void> {
    try {
      const answer = await this.deps.request(
        nid,
        "VIP_RELEASE",
        { generation, vip },
        this.deps.releaseTimeoutMs ?? 3_000,
      );
      if (answer.type !== "VIP_RELEASE_RESPONSE" || (answer.payload as { ok?: unknown })?.ok !== true) {
        this.deps.log.warn({ nid, generation, answer }, "VIP release not confirmed");
      }
    } catch (err) {
      this.deps.log.info({ nid, generation, err: errorMessage(err) }, "VIP release not delivered");
    }
  }

  private retryMs(): number {
    return this.deps.retryMs ?? 10_000;
  }

  private retryLater(ref: ClusterRef, candidates: readonly NodeRecord[]): void {
    if (candidates.length > 0) this.wakeAt(ref, this.deps.clock.now() + this.retryMs());
  }

  /** One pending wake-up per cluster, the earliest wins. */
  private wakeAt(ref: ClusterRef, at: number): void {
    if (this.stopped) return;
    const key = keyOf(ref);
    const pending = this.wakeups.get(key);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.deps.clock.setTimeout(
      () => {
        this.wakeups.delete(key);
        void this.evaluate(ref);
      },
      Math.max(0, at - this.deps.clock.now()),
    );
    this.wakeups.set(key, { at, timer });
  }
}

function isControlPlane(node: NodeRecord): boolean {
  return node.role === "control-plane" && node.overlayIp !== null;
}

function why(holder: NodeRecord | undefined): string {
  if (!holder) return "deleted";
  return isControlPlane(holder) ? "unreachable" : "no longer a control plane";
}

function keyOf(ref: ClusterRef): string {
  return `${ref.aid}/${ref.cluster}`;
}
