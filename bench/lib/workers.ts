import { type ChildProcess, fork } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../../src/common/errors.js";
import type { FromWorker, ToWorker, WorkerOptions } from "./ipc.js";

/** Every IPC message names its kind; a worker answers a command with a message of a known kind. */
export interface WorkerMessage {
  kind: string;
}

/** What a worker sends when a command threw, or what the handle makes of a worker that died. */
interface Failed {
  kind: "failed";
  message: string;
}

/**
 * One forked benchmark worker (a TypeScript script run with `--import tsx`): typed request/answer
 * over IPC, one outstanding request per answer kind, each bounded by a timeout. Messages of the
 * kinds in `eventKinds` answer nothing: they go to `onEvent` (progress reports).
 */
export class ForkedWorker<To extends WorkerMessage, From extends WorkerMessage> {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (message: From | Failed) => void>();
  /** Replies that came before anyone asked (a worker says "ready" on its own). */
  private readonly early = new Map<string, From>();
  private failure: Error | undefined;
  onEvent: (message: From) => void = () => {};

  constructor(
    script: string,
    readonly index: number,
    /** JSON-encoded into the worker's first argument. */
    workerArgument: unknown,
    logFile: string,
    private readonly eventKinds: readonly string[] = [],
  ) {
    const out = openSync(logFile, "a");
    this.child = fork(script, [JSON.stringify(workerArgument)], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", out, out, "ipc"],
    });
    closeSync(out);
    this.child.on("message", (message: From) => this.receive(message));
    this.child.on("exit", (code, signal) => {
      this.fail(new Error(`worker ${index} exited (${signal ?? code})`));
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Sends a command (or nothing, to wait for a message the worker sends unasked) and waits for the reply of the given kind. */
  request<K extends From["kind"]>(
    message: To | undefined,
    kind: K,
    timeoutMs: number,
  ): Promise<Extract<From, { kind: K }>> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const early = this.early.get(kind);
      if (early && !message) {
        this.early.delete(kind);
        return resolve(early as Extract<From, { kind: K }>);
      }
      const timer = setTimeout(() => {
        this.waiting.delete(kind);
        reject(new Error(`worker ${this.index}: no ${kind} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiting.set(kind, (reply) => {
        clearTimeout(timer);
        if (reply.kind === "failed") reject(new Error(`worker ${this.index}: ${(reply as Failed).message}`));
        else resolve(reply as Extract<From, { kind: K }>);
      });
      if (message) this.child.send(message);
    });
  }

  /** SIGKILL by PID if still running (synchronous, safe in an exit handler). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  /** Sends `{kind: "stop"}` and waits for the worker to exit; kills it if it has not after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ kind: "stop" } satisfies WorkerMessage);
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private receive(message: From): void {
    if (this.eventKinds.includes(message.kind)) {
      this.onEvent(message);
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
    const failed: Failed = { kind: "failed", message: err.message };
    for (const settle of this.waiting.values()) settle(failed);
    this.waiting.clear();
  }
}

const simWorkerScript = new URL("../sim-worker.ts", import.meta.url).pathname;

/** One forked bench/sim-worker.ts (bench:agents). */
export class WorkerHandle extends ForkedWorker<ToWorker, FromWorker> {
  onProgress: (connected: number) => void = () => {};

  constructor(
    readonly options: WorkerOptions,
    logDir: string,
  ) {
    super(simWorkerScript, options.index, options, join(logDir, `worker-${options.index}.log`), ["progress"]);
    this.onEvent = (message) => {
      if (message.kind === "progress") this.onProgress(message.connected);
    };
  }
}

/**
 * The worker side of the channel: runs `handle` for every command from the orchestrator, reports a
 * failed one, says "ready", and exits when the orchestrator is gone (finished, crashed or killed).
 */
export function serveCommands<To>(handle: (message: To) => Promise<void>): void {
  process.on("message", (message: To) => {
    handle(message).catch((err: unknown) => process.send?.({ kind: "failed", message: errorMessage(err) }));
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ kind: "ready" });
}
