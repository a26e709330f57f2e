import type { Clock, Timer } from "../../common/clock.js";
import { RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { grpc } from "../../wire/grpc.js";
import type { NodeIdentity } from "./peer-identity.js";
import type { Presence } from "./presence.js";
import { type AgentCall, type InstructionAnswer, Session } from "./session.js";

export interface HubOptions {
  clock: Clock;
  log: Logger;
  presence: Presence;
  queueLimit: number;
  /** Told about every new stream (the overlay re-sends the node its peers). */
  onOpen?: (session: Session) => void;
}

/** The open agent streams, one per node: routing of instructions and ending of sessions. */
export class Hub {
  private readonly sessions = new Map<string, Session>();
  private readonly timers = new Set<Timer>();

  constructor(private readonly options: HubOptions) {}

  /** Registers a new stream; an older stream of the same node is ended (one session per node). */
  open(call: AgentCall, identity: NodeIdentity, observedAddr: string): Session {
    const session = new Session(call, identity, {
      clock: this.options.clock,
      log: this.options.log,
      queueLimit: this.options.queueLimit,
      observedAddr,
      onClosed: (closed, reason) => this.closed(closed, reason),
    });
    const previous = this.sessions.get(identity.nid);
    this.sessions.set(identity.nid, session);
    previous?.close("replaced by a newer stream of the same node", grpc.status.ABORTED);
    this.options.presence.connected(identity.nid, observedAddr);
    this.options.log.info({ nid: identity.nid, peer: observedAddr }, "agent stream opened");
    this.options.onOpen?.(session);
    return session;
  }

  get(nid: string): Session | undefined {
    return this.sessions.get(nid);
  }

  /** The open sessions of one cluster (a walk over all sessions: cheap next to a store read). */
  *inCluster(aid: string, cluster: string): Generator<Session> {
    for (const session of this.sessions.values()) {
      if (session.aid === aid && session.cluster === cluster) yield session;
    }
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Sends an instruction to a node and waits for its answer. Rejects with NA_CONFLICT when the
   * node has no open stream, NA_TIMEOUT, or NA_STREAM_CLOSED when the stream ends first.
   */
  request(nid: string, type: string, payload: unknown, timeoutMs: number): Promise<InstructionAnswer> {
    const session = this.sessions.get(nid);
    if (!session) {
      return Promise.reject(
        new RunosError("NA_CONFLICT", `node ${nid} is offline: it has no open control stream`),
      );
    }
    return session.request(type, payload, timeoutMs);
  }

  /** Ends a node's session, e.g. when it is deleted or replaced; the agent gets `code`. */
  end(nid: string, reason: string, code: grpc.status = grpc.status.UNAUTHENTICATED): void {
    this.sessions.get(nid)?.close(reason, code);
  }

  /** A superseded certificate may keep its stream for the grace period, not beyond. */
  endSerialAfter(nid: string, serial: string, delayMs: number): void {
    const timer = this.options.clock.setTimeout(() => {
      this.timers.delete(timer);
      const session = this.sessions.get(nid);
      if (session?.serial === serial) {
        session.close("the certificate of this stream was superseded", grpc.status.UNAUTHENTICATED);
      }
    }, delayMs);
    this.timers.add(timer);
  }

  closeAll(reason: string): void {
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
    for (const session of [...this.sessions.values()]) session.close(reason, grpc.status.UNAVAILABLE);
  }

  private closed(session: Session, reason: string): void {
    if (this.sessions.get(session.nid) === session) {
      this.sessions.delete(session.nid);
      this.options.presence.disconnected(session.nid);
    }
    this.options.log.info({ nid: session.nid, reason }, "agent stream closed");
  }
}
