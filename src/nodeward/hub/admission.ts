import type { Clock } from "../../common/clock.js";
import { grpc, grpcError } from "../../wire/grpc.js";

/** The metadata key carrying "come back after this many ms" to a refused agent. */
export const retryAfterKey = "runos-retry-after-ms";

/**
 * An error with the retry hint the agent honours: RESOURCE_EXHAUSTED for sessions and
 * registrations, FAILED_PRECONDITION for "the cluster cannot take you yet".
 */
export function retryLater(
  message: string,
  retryAfterMs: number,
  code: grpc.status = grpc.status.RESOURCE_EXHAUSTED,
): grpc.ServiceError {
  const err = grpcError(code, message);
  err.metadata.set(retryAfterKey, String(retryAfterMs));
  return err;
}

export interface AdmissionOptions {
  /** New agent sessions admitted per second (steady state). */
  ratePerSecond: number;
  /** Sessions admitted at once before the rate applies. */
  burst: number;
  clock: Clock;
  random?: () => number;
}

/**
 * Admission control for new agent sessions: a token bucket. A refused agent gets
 * RESOURCE_EXHAUSTED with a retry hint spread over the time the backlog needs to drain, so a
 * reconnect storm (a restart with thousands of agents connected) arrives as a steady stream
 * instead of a wall.
 */
export class Admission {
  private tokens: number;
  private last: number;
  private refusedRecently = 0;

  constructor(private readonly options: AdmissionOptions) {
    this.tokens = options.burst;
    this.last = options.clock.now();
  }

  tryAdmit(): boolean {
    const now = this.options.clock.now();
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.options.burst, this.tokens + elapsed * this.options.ratePerSecond);
    this.refusedRecently = Math.max(0, this.refusedRecently - elapsed * this.options.ratePerSecond);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.refusedRecently += 1;
    return false;
  }

  /** Uniform over the time the refused backlog needs at the admitted rate (at least 1-5 s). */
  retryAfterMs(): number {
    const drainMs = (this.refusedRecently / this.options.ratePerSecond) * 1000;
    const window = Math.max(5_000, Math.min(60_000, drainMs * 1.5));
    return Math.round(1_000 + (this.options.random ?? Math.random)() * (window - 1_000));
  }

  /** The refusal an agent sees; it waits at least the hint before dialling again. */
  refusal(): grpc.ServiceError {
    return retryLater("nodeward is admitting agents gradually; retry later", this.retryAfterMs());
  }
}
