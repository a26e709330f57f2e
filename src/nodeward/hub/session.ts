import type { Clock, Timer } from "../../common/clock.js";
import { errorMessage, RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { decodeJsonB64, type Envelope, ERROR_TYPE, envelope, newTag } from "../../wire/envelope.js";
import { grpc, grpcError } from "../../wire/grpc.js";
import type { NodeIdentity } from "./peer-identity.js";

/** The part of a grpc-js server duplex call a session uses (tests may pass a fake). */
export interface AgentCall {
  write(message: Envelope): boolean;
  readonly writableLength: number;
  end(): void;
  emit(event: "error", err: grpc.ServiceError): boolean;
}

/** An instruction's outcome as the agent gave it: a decoded answer, or the raw ERROR text. */
export type InstructionAnswer = { type: string; payload: unknown } | { type: "ERROR"; error: string };

export interface SessionOptions {
  clock: Clock;
  log: Logger;
  /** Messages allowed to wait in the write buffer; also the cap on outstanding requests and on queued inbound work. */
  queueLimit: number;
  observedAddr: string;
  onClosed(session: Session, reason: string): void;
}

interface Waiter {
  type: string;
  resolve(answer: InstructionAnswer): void;
  reject(err: Error): void;
  timer: Timer;
}

/**
 * One open NodeAgentStream of one node: tagged requests to the agent, their answers, and a
 * bounded write buffer. When it closes, every pending request is rejected.
 */
export class Session {
  readonly nid: string;
  readonly serial: string;
  readonly aid: string;
  readonly cluster: string;
  readonly observedAddr: string;
  readonly openedAt: number;
  /** Announced in RUNOS_AGENT_HELLO; empty for an original agent. */
  capabilities: string[] = [];
  /** The underlay address the node last reported in a heartbeat. */
  reportedNodeIp: string | undefined;
  agentVersion: string | undefined;

  private readonly pending = new Map<string, Waiter>();
  private inbound: Promise<void> = Promise.resolve();
  private inboundQueued = 0;
  private closedReason: string | undefined;

  constructor(
    private readonly call: AgentCall,
    identity: NodeIdentity,
    private readonly options: SessionOptions,
  ) {
    this.nid = identity.nid;
    this.serial = identity.serial;
    this.aid = identity.aid;
    this.cluster = identity.cluster;
    this.observedAddr = options.observedAddr;
    this.openedAt = options.clock.now();
  }

  get isOpen(): boolean {
    return this.closedReason === undefined;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Queues one message; a session whose peer stopped reading is cut off, not buffered forever. */
  send(message: Envelope): boolean {
    if (!this.isOpen) return false;
    if (this.call.writableLength >= this.options.queueLimit) {
      this.close("send queue overflow", grpc.status.RESOURCE_EXHAUSTED);
      return false;
    }
    try {
      this.call.write(message);
      return true;
    } catch (err) {
      this.close(`write failed: ${errorMessage(err)}`);
      return false;
    }
  }

  /** Sends an instruction and resolves with the first message carrying its tag. */
  request(type: string, payload: unknown, timeoutMs: number): Promise<InstructionAnswer> {
    if (!this.isOpen) return Promise.reject(streamClosed(this.nid, this.closedReason));
    if (this.pending.size >= this.options.queueLimit) {
      return Promise.reject(
        new RunosError("NA_CONFLICT", `node ${this.nid} has too many requests outstanding`),
      );
    }
    const tag = newTag();
    return new Promise<InstructionAnswer>((resolve, reject) => {
      const timer = this.options.clock.setTimeout(() => {
        this.pending.delete(tag);
        reject(
          new RunosError("NA_TIMEOUT", `node ${this.nid} did not answer ${type} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.pending.set(tag, { type, resolve, reject, timer });
      if (!this.send(envelope(type, payload, tag))) {
        // close() already rejected it if the session closed while sending
        this.settle(tag)?.reject(streamClosed(this.nid, this.closedReason));
      }
    });
  }

  /** Delivers a message to the request waiting on its tag; false if nobody waits for it. */
  takeAnswer(message: Envelope): boolean {
    const waiter = this.settle(message.tag);
    if (!waiter) return false;
    if (message.type === ERROR_TYPE) {
      waiter.resolve({ type: ERROR_TYPE, error: message.jsonB64 });
      return true;
    }
    try {
      const payload = message.jsonB64 === "" ? null : decodeJsonB64(message.jsonB64);
      waiter.resolve({ type: message.type, payload });
    } catch (err) {
      waiter.reject(
        new RunosError(
          "NA_INVALID_INPUT",
          `the agent's ${message.type} answer could not be decoded: ${errorMessage(err)}`,
        ),
      );
    }
    return true;
  }

  /**
   * Runs inbound work one message at a time, in arrival order. A peer that floods faster than
   * we can handle is disconnected once the backlog passes the limit.
   */
  runInOrder(work: () => Promise<void>): void {
    if (!this.isOpen) return;
    if (this.inboundQueued >= this.options.queueLimit) {
      this.close("inbound backlog overflow", grpc.status.RESOURCE_EXHAUSTED);
      return;
    }
    this.inboundQueued += 1;
    this.inbound = this.inbound
      .then(work)
      .catch((err: unknown) =>
        this.options.log.warn({ nid: this.nid, err: errorMessage(err) }, "inbound message failed"),
      )
      .finally(() => {
        this.inboundQueued -= 1;
      });
  }

  /**
   * Ends the session. With a status the agent gets that error; without one the stream ends OK
   * (unless the peer already went away, `peerGone`, when there is nothing left to end).
   */
  close(reason: string, code?: grpc.status, peerGone = false): void {
    if (!this.isOpen) return;
    this.closedReason = reason;
    for (const tag of [...this.pending.keys()]) this.settle(tag)?.reject(streamClosed(this.nid, reason));
    this.options.onClosed(this, reason);
    if (peerGone) return;
    try {
      if (code === undefined) this.call.end();
      else this.call.emit("error", grpcError(code, reason));
    } catch {
      // the call is already finished
    }
  }

  private settle(tag: string): Waiter | undefined {
    const waiter = this.pending.get(tag);
    if (!waiter) return undefined;
    this.pending.delete(tag);
    waiter.timer.cancel();
    return waiter;
  }
}

function streamClosed(nid: string, reason: string | undefined): RunosError {
  return new RunosError("NA_STREAM_CLOSED", `the stream of node ${nid} closed (${reason ?? "closed"})`);
}
