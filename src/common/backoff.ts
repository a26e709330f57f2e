export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Uniform random in [0,1); injected so tests are deterministic. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * the delay is uniform in [0, min(max, base * 2^attempt)], which spreads a reconnect storm evenly.
 */
export class Backoff {
  private attempt = 0;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.random = options.random ?? Math.random;
  }

  /** The ceiling for the next delay, before jitter. */
  ceiling(): number {
    return Math.min(this.options.maxMs, this.options.baseMs * 2 ** Math.min(this.attempt, 30));
  }

  next(): number {
    const delay = Math.floor(this.random() * this.ceiling());
    this.attempt += 1;
    return Math.max(delay, Math.min(this.options.baseMs, 100));
  }

  reset(): void {
    this.attempt = 0;
  }
}
