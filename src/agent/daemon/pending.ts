import { RunosError } from "../../common/errors.js";
import type { Envelope } from "../../wire/envelope.js";

interface Waiter {
  resolve(envelope: Envelope): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Agent-originated requests waiting for the answer with their tag (spec 3.4). */
export class PendingRequests {
  private readonly waiters = new Map<string, Waiter>();

  wait(tag: string, timeoutMs: number): Promise<Envelope> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(tag);
        reject(new RunosError("NA_TIMEOUT", `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(tag, { resolve, reject, timer });
    });
  }

  /** True if the envelope answered a pending request (and must not be dispatched). */
  settle(envelope: Envelope): boolean {
    const waiter = this.waiters.get(envelope.tag);
    if (!waiter) return false;
    this.waiters.delete(envelope.tag);
    clearTimeout(waiter.timer);
    waiter.resolve(envelope);
    return true;
  }

  cancel(tag: string): void {
    const waiter = this.waiters.get(tag);
    if (!waiter) return;
    this.waiters.delete(tag);
    clearTimeout(waiter.timer);
  }

  rejectAll(reason: string): void {
    for (const [tag, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new RunosError("NA_STREAM_CLOSED", reason));
      this.waiters.delete(tag);
    }
  }

  get size(): number {
    return this.waiters.size;
  }
}
