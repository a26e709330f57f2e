import { type ChildProcess, fork } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import type { FromWorker, ToWorker, WorkerOptions } from "./ipc.js";

const workerScript = new URL("../sim-worker.ts", import.meta.url).pathname;

type Reply<K extends FromWorker["kind"]> = Extract<FromWorker, { kind: K }>;

/** One forked sim-worker: typed request/answer over IPC, bounded by a timeout each. */
export class WorkerHandle {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (message: FromWorker) => void>();
  /** Replies that came before anyone asked (the worker says "ready" on its own). */
  private readonly early = new Map<string, FromWorker>();
  private failure: Error | undefined;
  onProgress: (connected: number) => void = () => {};

  constructor(
    readonly options: WorkerOptions,
    logDir: string,
  ) {
    const out = openSync(join(logDir, `worker-${options.index}.log`), "a");
    this.child = fork(workerScript, [JSON.stringify(options)], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", out, out, "ipc"],
    });
    closeSync(out);
    this.child.on("message", (message: FromWorker) => this.receive(message));
    this.child.on("exit", (code, signal) => {
      this.fail(new Error(`worker ${options.index} exited (${signal ?? code})`));
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Sends a command and waits for the reply of the given kind. */
  request<K extends FromWorker["kind"]>(
    message: ToWorker | undefined,
    kind: K,
    timeoutMs: number,
  ): Promise<Reply<K>> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const early = this.early.get(kind);
      if (early && !message) {
        this.early.delete(kind);
        return resolve(early as Reply<K>);
      }
      const timer = setTimeout(() => {
        this.waiting.delete(kind);
        reject(
          new Error(`worker ${this.options.index}: no ${kind} within ${Math.round(timeoutMs / 1000)} s`),
        );
      }, timeoutMs);
      this.waiting.set(kind, (reply) => {
        clearTimeout(timer);
        if (reply.kind === "failed") reject(new Error(`worker ${this.options.index}: ${reply.message}`));
        else resolve(reply as Reply<K>);
      });
      if (message) this.child.send(message);
    });
  }

  /** SIGKILL by PID if still running (synchronous, safe in an exit handler). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  /** Asks the worker to close its agents and exit; kills it if it has not after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ kind: "stop" } satisfies ToWorker);
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private receive(message: FromWorker): void {
    if (message.kind === "progress") {
      this.onProgress(message.connected);
      return;
    }
    if (message.kind === "failed") {
      for (const settle of this.waiting.values()) settle(message);
      this.waiting.clear();
      return;
    }
    const settle = this.waiting.get(message.kind);
    this.waiting.delete(message.kind);
    if (settle) settle(message);
    else this.early.set(message.kind, message);
  }

  private fail(err: Error): void {
    this.failure = err;
    const failed: FromWorker = { kind: "failed", message: err.message };
    for (const settle of this.waiting.values()) settle(failed);
    this.waiting.clear();
  }
}
