import type { Clock, Timer } from "../../../src/common/clock.js";

interface Scheduled {
  at: number;
  every: number | undefined;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when the test says so; timers fire in time order during advance(). */
export class ManualClock implements Clock {
  private timers: Scheduled[] = [];

  constructor(private current = Date.now()) {}

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.current = Math.max(this.current, due.at);
      if (due.every === undefined) due.cancelled = true;
      else due.at += due.every;
      due.fn();
    }
    this.current = until;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }

  private schedule(fn: () => void, ms: number, every: number | undefined): Timer {
    const timer: Scheduled = { at: this.current + Math.max(0, ms), every, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }
}
