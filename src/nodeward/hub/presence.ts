import type { Clock, Timer } from "../../common/clock.js";
import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { HeartbeatStatus, PresenceUpdate, Repository } from "../store/repository.js";

export interface PresenceOptions {
  store: Repository;
  clock: Clock;
  log: Logger;
  offlineAfterMs: number;
  tickMs: number;
  /**
   * A heartbeat that changes nothing but the time is written at most this often: at 10,000
   * nodes a write per heartbeat would stall the event loop every tick for nothing (default 30 s).
   */
  livenessWriteMs?: number;
}

export interface PresenceView {
  online: boolean;
  connected: boolean;
  lastHeartbeatAt: number | null;
  connectedAt: number | null;
  observedAddr: string | null;
}

interface Entry extends PresenceView {
  /** The latest unwritten change; at most one per node, whatever the heartbeat rate. */
  dirty: PresenceUpdate | undefined;
  /** What the store holds for this node since the last write, and when it was written. */
  written: { at: number; observedAddr: string | null; statusJson: string } | undefined;
}

/**
 * Who is online, kept in memory. A node is online while its stream is open and heartbeats keep
 * arriving; one timer tick both marks silent nodes offline and writes the latest heartbeat of
 * every node that sent one since the last tick, in a single transaction.
 */
export class Presence {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners: ((nid: string, online: boolean) => void)[] = [];
  private timer: Timer | undefined;
  private flushing: Promise<void> | undefined;

  constructor(private readonly options: PresenceOptions) {}

  start(): void {
    this.timer ??= this.options.clock.setInterval(() => void this.tick(), this.options.tickMs);
  }

  /** Stops the timer and writes what is pending. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    await this.flush();
  }

  /** Told when a node's stream opens or closes and when it goes silent or speaks again (the VIP election). */
  onChange(listener: (nid: string, online: boolean) => void): void {
    this.listeners.push(listener);
  }

  connected(nid: string, observedAddr: string): void {
    const now = this.options.clock.now();
    const entry = this.entry(nid);
    Object.assign(entry, { online: true, connected: true, connectedAt: now, observedAddr });
    this.markDirty(nid, entry, now, undefined);
    this.notify(nid, true);
  }

  disconnected(nid: string): void {
    const entry = this.entries.get(nid);
    if (!entry) return;
    if (entry.online) this.options.log.info({ nid }, "node offline: stream closed");
    entry.online = false;
    entry.connected = false;
    this.notify(nid, false);
  }

  /** A heartbeat arrived; `status` is absent when its payload did not parse (still a sign of life). */
  heartbeat(nid: string, status: HeartbeatStatus | undefined): void {
    const now = this.options.clock.now();
    const entry = this.entry(nid);
    const cameBack = !entry.online;
    if (cameBack) this.options.log.info({ nid }, "node online");
    entry.online = true;
    entry.lastHeartbeatAt = now;
    this.markDirty(nid, entry, now, status);
    if (cameBack) this.notify(nid, true);
  }

  /** Forgets a node (deleted or replaced). */
  forget(nid: string): void {
    this.entries.delete(nid);
  }

  view(nid: string): PresenceView {
    const entry = this.entries.get(nid);
    if (!entry)
      return {
        online: false,
        connected: false,
        lastHeartbeatAt: null,
        connectedAt: null,
        observedAddr: null,
      };
    const { dirty: _dirty, written: _written, ...view } = entry;
    return view;
  }

  onlineCount(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.online) count += 1;
    return count;
  }

  /** One presence round: offline detection, then the batched write. Exposed for tests. */
  async tick(): Promise<void> {
    const now = this.options.clock.now();
    for (const [nid, entry] of this.entries) {
      // a fresh stream gets a full interval before its first heartbeat is due
      const since = Math.max(entry.lastHeartbeatAt ?? 0, entry.connectedAt ?? 0);
      if (entry.online && now - since > this.options.offlineAfterMs) {
        entry.online = false;
        this.options.log.info({ nid, silentMs: now - since }, "node offline: no heartbeat");
        this.notify(nid, false);
      }
    }
    await this.flush();
  }

  /** Writes all pending updates in one transaction; overlapping calls share one write. */
  flush(): Promise<void> {
    this.flushing ??= this.writePending().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    const batch: PresenceUpdate[] = [];
    for (const entry of this.entries.values()) {
      if (!entry.dirty) continue;
      batch.push(entry.dirty);
      entry.written = {
        at: entry.dirty.lastSeenAt,
        observedAddr: entry.dirty.observedAddr,
        statusJson: statusJson(entry.dirty.status),
      };
      entry.dirty = undefined;
    }
    if (batch.length === 0) return;
    try {
      await this.options.store.recordPresence(batch);
    } catch (err) {
      this.options.log.warn({ err: errorMessage(err), nodes: batch.length }, "writing presence failed");
    }
  }

  private notify(nid: string, online: boolean): void {
    for (const listener of this.listeners) {
      try {
        listener(nid, online);
      } catch (err) {
        this.options.log.warn({ nid, err: errorMessage(err) }, "presence listener failed");
      }
    }
  }

  private entry(nid: string): Entry {
    let entry = this.entries.get(nid);
    if (!entry) {
      entry = {
        online: false,
        connected: false,
        lastHeartbeatAt: null,
        connectedAt: null,
        observedAddr: null,
        dirty: undefined,
        written: undefined,
      };
      this.entries.set(nid, entry);
    }
    return entry;
  }

  private markDirty(nid: string, entry: Entry, now: number, status: HeartbeatStatus | undefined): void {
    const update = {
      nid,
      lastSeenAt: now,
      observedAddr: entry.observedAddr,
      status: status ?? entry.dirty?.status,
    };
    const unchanged =
      entry.written !== undefined &&
      entry.written.observedAddr === update.observedAddr &&
      entry.written.statusJson === statusJson(update.status);
    if (
      !entry.dirty &&
      unchanged &&
      now - (entry.written?.at ?? 0) < (this.options.livenessWriteMs ?? 30_000)
    )
      return;
    entry.dirty = update;
  }
}

/** JSON of a heartbeat status, once per status object (a repeated heartbeat reuses its object). */
const statusJsonCache = new WeakMap<HeartbeatStatus, string>();
function statusJson(status: HeartbeatStatus | undefined): string {
  if (!status) return "null";
  let json = statusJsonCache.get(status);
  if (json === undefined) {
    json = JSON.stringify(status);
    statusJsonCache.set(status, json);
  }
  return json;
}
