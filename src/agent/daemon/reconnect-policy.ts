import { Backoff } from "../../common/backoff.js";
import type { SessionEndReason } from "./session.js";

/** Why a connection to the control plane ended: the session's reason, or a dial that never got a stream. */
export type ConnectionEndReason = SessionEndReason | "dial_failed";

export interface ConnectionEnd {
  reason: ConnectionEndReason;
  /** From the start of the dial to the end of the connection (ms). */
  livedMs: number;
  /** The control plane's "come back later" hint (`runos-retry-after-ms`), 0 without one. */
  retryAfterMs: number;
}

export interface ReconnectPolicyOptions {
  /** Ceiling of the first delay (default 1 s); it doubles per failed attempt. */
  baseMs?: number;
  /** Largest ceiling (default 60 s). */
  maxMs?: number;
  /** A connection that lived at least this long was healthy: the backoff starts over (default 120 s). */
  healthyAfterMs?: number;
  /** Uniform random in [0,1); injected so tests are deterministic. */
  random?: () => number;
}

/**
 * When the agent dials its control plane again after a connection ended. Full-jitter exponential
 * backoff (1-60 s ceilings), started over after a connection that lived 120 s; never sooner than
 * the control plane's retry hint (admission control); at once after a certificate recycle. The
 * agent never gives up: every call returns a finite delay.
 */
export class ReconnectPolicy {
  private readonly backoff: Backoff;
  private readonly healthyAfterMs: number;

  constructor(options: ReconnectPolicyOptions = {}) {
    this.backoff = new Backoff({
      baseMs: options.baseMs ?? 1_000,
      maxMs: options.maxMs ?? 60_000,
      random: options.random,
    });
    this.healthyAfterMs = options.healthyAfterMs ?? 120_000;
  }

  /** Milliseconds to wait before the next dial; 0 means "redial at once" (a new certificate). */
  delayAfter(end: ConnectionEnd): number {
    if (end.reason === "recycle") return 0;
    if (end.livedMs >= this.healthyAfterMs) this.backoff.reset();
    // Admission control may ask for more patience than our own backoff: honour it.
    return Math.max(this.backoff.next(), end.retryAfterMs);
  }
}
