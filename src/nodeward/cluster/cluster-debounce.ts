import type { Clock, Timer } from "../../common/clock.js";

export interface ClusterRef {
  aid: string;
  cluster: string;
}

/**
 * Coalesces work per cluster: the first request in a window schedules one run, later ones in
 * the same window join it (a join is several small updates; they go out as one push).
 */
export class ClusterDebounce {
  private readonly pending = new Map<string, Timer>();

  constructor(
    private readonly clock: Clock,
    private readonly run: (ref: ClusterRef) => Promise<void>,
  ) {}

  schedule(ref: ClusterRef, delayMs: number): void {
    const key = `${ref.aid}/${ref.cluster}`;
    if (this.pending.has(key)) return;
    this.pending.set(
      key,
      this.clock.setTimeout(() => {
        this.pending.delete(key);
        void this.run(ref);
      }, delayMs),
    );
  }

  stop(): void {
    for (const timer of this.pending.values()) timer.cancel();
    this.pending.clear();
  }
}
