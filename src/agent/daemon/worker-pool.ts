/**
 * At most `workers` tasks run at once; up to `queueLimit` wait. Tasks handle their own errors
 * (the pool never sees a rejection), so one bad handler cannot stop the others.
 */
export class WorkerPool {
  private running = 0;
  private readonly queue: (() => Promise<void>)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly workers: number,
    private readonly queueLimit: number,
  ) {}

  /** False when the queue is full: the caller answers "busy" instead of buffering without bound. */
  submit(task: () => Promise<void>): boolean {
    if (this.running < this.workers) {
      this.start(task);
      return true;
    }
    if (this.queue.length >= this.queueLimit) return false;
    this.queue.push(task);
    return true;
  }

  private start(task: () => Promise<void>): void {
    this.running += 1;
    void task()
      .catch(() => {}) // invariant: tasks catch their own errors; this only guards the pool
      .finally(() => {
        this.running -= 1;
        const next = this.queue.shift();
        if (next) this.start(next);
        else if (this.running === 0) this.notifyIdle();
      });
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves when nothing runs or waits, or after timeoutMs. */
  drain(timeoutMs: number): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  get busy(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }
}
