import { EventEmitter } from "node:events";
import { errorMessage, RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { type Envelope, errorEnvelope, newTag } from "../../wire/envelope.js";
import { type DispatchDeps, dispatchInstruction } from "./dispatch.js";
import { PendingRequests } from "./pending.js";
import { WorkerPool } from "./worker-pool.js";

/** The part of a grpc-js duplex call the session uses; tests pass an in-memory pair. */
export interface StreamLike {
  write(message: Envelope, callback?: (err?: Error | null) => void): boolean;
  end(): void;
  cancel?(): void;
  on(event: "data", listener: (message: Envelope) => void): unknown;
  on(event: "end" | "close" | "drain", listener: () => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  once(event: "drain", listener: () => void): unknown;
}

export interface SessionOptions {
  workers: number;
  queueLimit: number;
  /** How long late workers may finish after the stream ends before their answers are dropped. */
  drainMs: number;
}

/** `runos-retry-after-ms` from a gRPC error's metadata, or 0. */
export function retryHint(err: unknown): number {
  const metadata = (err as { metadata?: { get(key: string): unknown[] } }).metadata;
  const value = Number(metadata?.get?.("runos-retry-after-ms")?.[0] ?? 0);
  return Number.isFinite(value) && value > 0 ? Math.min(value, 300_000) : 0;
}

export type SessionEndReason = "shutdown" | "stream_ended" | "stream_error" | "heartbeat_stopped" | "recycle";

/**
 * One L2Sec stream (spec 3.3-3.4): receives instructions and answers them through a bounded
 * worker pool, correlates answers to the agent's own requests by tag, and serialises sends.
 */
export class Session {
  private readonly pending = new PendingRequests();
  private readonly pool: WorkerPool;
  private readonly ended = new EventEmitter();
  private endReason: SessionEndReason | undefined;
  private sendChain: Promise<void> = Promise.resolve();
  readonly startedAt = Date.now();
  /** The control plane asked us to come back no sooner than this (admission control). */
  retryAfterMs = 0;

  constructor(
    private readonly stream: StreamLike,
    private readonly dispatch: DispatchDeps,
    private readonly log: Logger,
    options: SessionOptions,
  ) {
    this.pool = new WorkerPool(options.workers, options.queueLimit);
    stream.on("data", (message) => this.receive(message));
    stream.on("end", () => this.finish("stream_ended"));
    stream.on("close", () => this.finish("stream_ended"));
    stream.on("error", (err) => {
      this.log.warn({ err: err.message }, "stream error");
      this.retryAfterMs = retryHint(err);
      this.finish("stream_error");
    });
  }

  get isOpen(): boolean {
    return this.endReason === undefined;
  }

  /** Resolves with the reason once the session is over (never rejects). */
  closed(): Promise<SessionEndReason> {
    if (this.endReason) return Promise.resolve(this.endReason);
    return new Promise((resolve) => this.ended.once("end", resolve));
  }

  /** Ends the session from our side (shutdown, certificate recycle, failed heartbeats). */
  close(reason: SessionEndReason): void {
    if (!this.isOpen) return;
    try {
      this.stream.end();
      this.stream.cancel?.();
    } catch {
      // already closed
    }
    this.finish(reason);
  }

  /** Sends an agent-originated request and waits for the answer with the same tag. */
  async request(type: string, jsonB64: string, timeoutMs: number): Promise<Envelope> {
    const tag = newTag();
    const answer = this.pending.wait(tag, timeoutMs);
    answer.catch(() => {}); // observed below; avoids an unhandled rejection if the send fails first
    try {
      await this.send({ type, jsonB64, tag });
    } catch (err) {
      this.pending.cancel(tag);
      throw err;
    }
    return answer;
  }

  /** Serialised write that honours backpressure. */
  send(message: Envelope): Promise<void> {
    const next = this.sendChain.then(
      () =>
        new Promise<void>((resolve, reject) => {
          if (!this.isOpen)
            return reject(new RunosError("NA_STREAM_CLOSED", `session ended (${this.endReason})`));
          const flushed = this.stream.write({ ...message }, (err) => (err ? reject(err) : undefined));
          if (flushed) resolve();
          else this.stream.once("drain", () => resolve());
        }),
    );
    this.sendChain = next.catch(() => {});
    return next;
  }

  private receive(message: Envelope): void {
    const envelope: Envelope = { type: message.type, jsonB64: message.jsonB64, tag: message.tag };
    this.log.debug({ type: envelope.type, tag: envelope.tag }, "Received instruction");
    if (this.pending.settle(envelope)) return;
    const accepted = this.pool.submit(async () => {
      const answer = await dispatchInstruction(this.dispatch, envelope);
      if (!answer) return;
      if (!this.isOpen) {
        this.log.info({ type: envelope.type, tag: envelope.tag }, "Context cancelled, abandoning response");
        return;
      }
      await this.send(answer).catch((err) =>
        this.log.warn({ err: errorMessage(err) }, "sending an answer failed"),
      );
    });
    if (!accepted) {
      void this.send(
        errorEnvelope(envelope.tag, "agent busy: too many instructions queued, retry later"),
      ).catch(() => {});
    }
  }

  private finish(reason: SessionEndReason): void {
    if (this.endReason) return;
    this.endReason = reason;
    this.pending.rejectAll(`session ended (${reason})`);
    this.ended.emit("end", reason);
  }

  /** Waits (bounded) for running handlers after the stream ended. */
  drain(timeoutMs: number): Promise<void> {
    return this.pool.drain(timeoutMs);
  }
}
