import { performance } from "node:perf_hooks";
import { agentCapabilities } from "../../src/agent/daemon/connection.js";
import type { DispatchDeps } from "../../src/agent/daemon/dispatch.js";
import {
  type ConnectionEnd,
  type ConnectionEndReason,
  ReconnectPolicy,
} from "../../src/agent/daemon/reconnect-policy.js";
import { Session, type StreamLike } from "../../src/agent/daemon/session.js";
import type { InstructionHandler } from "../../src/agent/instructions/define.js";
import { createHandlerRegistry } from "../../src/agent/instructions/index.js";
import { type L2Client, waitForReady } from "../../src/agent/link/clients.js";
import { channelOptions, hostPort } from "../../src/agent/link/endpoints.js";
import { sendNodelog } from "../../src/agent/link/nodelog.js";
import { agentVersion } from "../../src/agent/version.js";
import { sleep } from "../../src/common/clock.js";
import { errorMessage } from "../../src/common/errors.js";
import type { Logger } from "../../src/common/log.js";
import { encodeJsonB64, NO_CONTENT_B64 } from "../../src/wire/envelope.js";
import { Nodeward as L2Nodeward } from "../../src/wire/gen/runos/nodeward/proto/l2sec/nodeward_l2sec_pb.js";
import { createTypedClient, grpc } from "../../src/wire/grpc.js";
import { type Heartbeat, MessageType } from "../../src/wire/messages.js";
import { benchHost, nodeFacts } from "./fake-host.js";
import type { AgentIdentity, Endpoint } from "./ipc.js";

/** Heartbeat outcomes of all agents of a worker; only counted while `recording`. */
export class BeatLog {
  /** Instructions nodeward sent, by type, since the last reset (whether recording or not). */
  instructions: Record<string, number> = {};
  recording = false;
  /** Set before nodeward is stopped on purpose: failures from then on are expected, not news. */
  quiet = false;
  rttMs: number[] = [];
  sent = 0;
  failed = 0;
  skipped = 0;
  readonly agentsWithBeat = new Set<string>();
  /** Called after a handler finished an instruction (for example to time when a peer change landed). */
  onHandled: ((nid: string, type: string, payload: unknown, finishedAt: number) => void) | undefined;

  reset(): void {
    this.instructions = {};
    this.rttMs = [];
    this.sent = 0;
    this.failed = 0;
    this.skipped = 0;
    this.agentsWithBeat.clear();
  }
}

export interface AgentContext {
  endpoint: Endpoint;
  caPem: string;
  heartbeatMs: number;
  /** Nodes have wg0 (in memory) and accept SET_VPN_PEERS; otherwise they are bare. */
  wireguard: boolean;
  log: Logger;
  beats: BeatLog;
  /** The simulator's own limit on dials in flight in this worker (none when absent). */
  dialSlots?: DialSlots;
  /** Capabilities announced in the hello; the real agent's by default. */
  capabilities?: readonly string[];
  /** The stream ended without us asking (nodeward closed it or the connection broke). */
  onDisconnect(agent: SimAgent, reason: string): void;
  /** nodeward answered a hello: the agent is online (keepConnected() only). */
  onOnline?(agent: SimAgent, helloMs: number): void;
  /** A dial, or the stream set-up before the hello answer, failed (keepConnected() only). */
  onDialFailed?(agent: SimAgent, failure: ConnectFailure): void;
}

/**
 * Refusals an agent cannot get past by waiting: nodeward does not accept its certificate. The real
 * agent keeps redialling anyway, but it would never come back; the bench counts it as "gave up".
 */
const terminalCodes: ReadonlySet<number> = new Set([
  grpc.status.UNAUTHENTICATED,
  grpc.status.PERMISSION_DENIED,
]);

/** A dial or stream set-up that did not reach a hello answer, with what nodeward said about it. */
export class ConnectFailure extends Error {
  constructor(
    message: string,
    readonly reason: ConnectionEndReason,
    /** nodeward's `runos-retry-after-ms`, as the real Session read it from the stream error; 0 without. */
    readonly retryAfterMs: number,
    /** The gRPC status the stream ended with, when it ended with one. */
    readonly code: number | undefined,
  ) {
    super(message);
  }

  get terminal(): boolean {
    return this.code !== undefined && terminalCodes.has(this.code);
  }
}

/**
 * At most `limit` dials in flight in one worker. Real agents dial from their own machines; a worker
 * running 2,500 of them on a shared core would otherwise start thousands of TLS handshakes at once
 * and finish none in time.
 */
export class DialSlots {
  private inUse = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.inUse >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.inUse += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.inUse -= 1;
    };
  }
}

/** What one agent's reconnect loop did since the last reset (keepConnected() only). */
export interface ReconnectCounts {
  /** Dials after the first: after a failed dial, a refusal or a dropped stream. */
  redials: number;
  /** Dials or stream set-ups that failed before a hello answer. */
  dialFailures: number;
  /** Refusals that carried a retry hint (admission control's RESOURCE_EXHAUSTED). */
  refusedWithHint: number;
  /** The hints of those refusals (ms). */
  retryHintsMs: number[];
  /** Refusals with a terminal status (UNAUTHENTICATED, PERMISSION_DENIED): the agent is stuck. */
  terminalRefusals: number;
}

const noCounts = (): ReconnectCounts => ({
  redials: 0,
  dialFailures: 0,
  refusedWithHint: 0,
  retryHintsMs: [],
  terminalRefusals: 0,
});

/** The real handlers, each counting what it is asked to do into the worker's BeatLog. */
function countingRegistry(beats: BeatLog): ReadonlyMap<string, InstructionHandler> {
  const counted = new Map<string, InstructionHandler>();
  for (const [type, handler] of createHandlerRegistry()) {
    counted.set(type, {
      spec: handler.spec,
      handle: async (payload, ctx) => {
        beats.instructions[type] = (beats.instructions[type] ?? 0) + 1;
        const answer = await handler.handle(payload, ctx);
        beats.onHandled?.(ctx.node().nid, type, payload, Date.now());
        return answer;
      },
    });
  }
  return counted;
}

const registries = new WeakMap<BeatLog, ReadonlyMap<string, InstructionHandler>>();
function registryFor(beats: BeatLog): ReadonlyMap<string, InstructionHandler> {
  let registry = registries.get(beats);
  if (!registry) {
    registry = countingRegistry(beats);
    registries.set(beats, registry);
  }
  return registry;
}

/**
 * One simulated node, wired like the real agent's connection (src/agent/daemon/connection.ts):
 * its own mTLS channel (local subchannel pool), its own NodeAgentStream driven by the real
 * Session and handler registry on a bare host, the hello, the VIP query and the "Agent started"
 * node log, then heartbeats. Unlike the real agent the first beat is jittered over one interval,
 * and each round trip is timed. keepConnected() adds the real agent's reconnect loop.
 */
export class SimAgent {
  private client: L2Client | undefined;
  private credentials: grpc.ChannelCredentials | undefined;
  /** A channel made ahead of the first dial (lazy: it connects only when asked). */
  private prepared: L2Client | undefined;
  private session: Session | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private readonly stopped = new AbortController();
  private firstOnline: Promise<number> | undefined;
  private readonly dispatch: DispatchDeps;
  private readonly heartbeat: Heartbeat;
  /** When nodeward last answered this agent's hello (Date.now()), 0 before the first. */
  lastHelloAt = 0;
  /** The dial that led to the last hello answer (Date.now()): started, channel ready (TCP + TLS). */
  lastDial = { startedAt: 0, readyAt: 0 };
  counts: ReconnectCounts = noCounts();

  constructor(
    readonly identity: AgentIdentity,
    private readonly ctx: AgentContext,
  ) {
    const facts = nodeFacts(identity.nid);
    this.dispatch = {
      handlers: registryFor(ctx.beats),
      context: {
        host: benchHost(facts, ctx.wireguard),
        signal: new AbortController().signal,
        node: () => ({ nid: identity.nid, ip: facts.nodeIp }),
      },
      log: ctx.log,
    };
    this.heartbeat = {
      externalIpAddress: "",
      isCp: false,
      isWorker: false,
      status: "not_installed",
      version: agentVersion,
      nodeIp: facts.nodeIp,
      vpnIp: ctx.wireguard ? facts.wgIpv4 : "",
      hostname: facts.hostname,
    };
  }

  get isOpen(): boolean {
    return this.session?.isOpen ?? false;
  }

  /**
   * Builds the channel and its TLS context now, so the timed connect phase does not include the
   * simulator parsing 500 keys in one process (each real agent does that on its own machine).
   */
  prepare(): void {
    this.prepared ??= this.newClient();
  }

  /**
   * One dial, no redial: resolves with the hello round trip once nodeward answered it; cleans up
   * and throws a ConnectFailure otherwise. A later end of the stream goes to `onDisconnect`.
   */
  async connect(): Promise<number> {
    const { session, helloMs } = await this.open();
    void session.closed().then((reason) => {
      if (!this.stopping && this.session === session) this.ctx.onDisconnect(this, reason);
    });
    return helloMs;
  }

  /**
   * Keeps the agent connected the way the real agent's supervise() does (src/agent/create-agent.ts):
   * after a failed dial, a refusal or a dropped stream it waits the real ReconnectPolicy's delay
   * (full jitter, never sooner than nodeward's retry hint) and dials again, forever, until stop().
   * Resolves with the first hello's round trip once the agent is online; the loop goes on. While
   * `beats.quiet` is set (nodeward is being stopped on purpose) a dropped agent does not redial.
   */
  keepConnected(): Promise<number> {
    this.firstOnline ??= new Promise<number>((resolve) => {
      void this.supervise(resolve);
    });
    return this.firstOnline;
  }

  /** Starts the reconnect counters again (for example at the start of a phase). */
  resetCounts(): ReconnectCounts {
    const counts = this.counts;
    this.counts = noCounts();
    return counts;
  }

  /** Ends the stream and the channel; the agent stays stopped. */
  stop(): void {
    this.stopping = true;
    this.stopped.abort();
    this.teardown();
  }

  private async supervise(online: (helloMs: number) => void): Promise<void> {
    const policy = new ReconnectPolicy();
    let first = true;
    while (!this.stopping) {
      if (this.ctx.beats.quiet) {
        await sleep(2 ** 31 - 1, this.stopped.signal); // parked until stop()
        return;
      }
      if (!first) this.counts.redials += 1;
      first = false;
      const startedAt = Date.now();
      let end: ConnectionEnd;
      try {
        const release = await this.ctx.dialSlots?.acquire();
        let opened: { session: Session; helloMs: number };
        try {
          opened = await this.open();
        } finally {
          release?.();
        }
        const { session, helloMs } = opened;
        online(helloMs);
        this.ctx.onOnline?.(this, helloMs);
        const reason = await session.closed();
        if (this.stopping) return;
        this.ctx.onDisconnect(this, reason);
        // as runConnection does: the retry hint the Session took from the stream error, handlers drained
        end = { reason, livedMs: Date.now() - startedAt, retryAfterMs: session.retryAfterMs };
        await session.drain(30_000);
        this.closeCurrent();
      } catch (err) {
        if (this.stopping) return;
        const failure =
          err instanceof ConnectFailure
            ? err
            : new ConnectFailure(errorMessage(err), "dial_failed", 0, undefined);
        this.counts.dialFailures += 1;
        if (failure.terminal) this.counts.terminalRefusals += 1;
        this.ctx.onDialFailed?.(this, failure);
        end = { reason: failure.reason, livedMs: Date.now() - startedAt, retryAfterMs: failure.retryAfterMs };
      }
      if (end.retryAfterMs > 0) {
        this.counts.refusedWithHint += 1;
        this.counts.retryHintsMs.push(end.retryAfterMs);
      }
      await sleep(policy.delayAfter(end), this.stopped.signal);
    }
  }

  /**
   * Dial, open the stream, hello; then the VIP query, the node log and heartbeats. Throws a
   * ConnectFailure (after cleaning up) when the dial fails or the hello is not answered.
   */
  private async open(): Promise<{ session: Session; helloMs: number }> {
    if (this.stopping) throw new ConnectFailure("agent stopped", "shutdown", 0, undefined);
    const { endpoint } = this.ctx;
    const client = this.prepared ?? this.newClient();
    this.prepared = undefined;
    this.closeCurrent(); // a redial: the dead session's channel and timers go first
    this.client = client;
    let session: Session | undefined;
    let code: number | undefined;
    let refusal = "";
    const dialStartedAt = Date.now();
    try {
      await waitForReady(client, 20_000, `${endpoint.host}:${endpoint.l2Port}`);
      const readyAt = Date.now();
      const stream = client.nodeAgentStream() as unknown as StreamLike;
      // the status a refusal carries; the Session itself keeps only the retry hint
      stream.on("error", (err) => {
        code = (err as { code?: number }).code;
        refusal = err.message;
      });
      session = new Session(stream, this.dispatch, this.ctx.log, {
        workers: 5,
        queueLimit: 100,
        drainMs: 30_000,
      });
      this.session = session;
      const started = performance.now();
      const answer = await session.request(
        MessageType.agentHello,
        encodeJsonB64({ version: agentVersion, capabilities: this.ctx.capabilities ?? agentCapabilities }),
        10_000,
      );
      const helloMs = performance.now() - started;
      if (answer.type !== MessageType.nodewardHello) throw new Error(`hello answered with ${answer.type}`);
      this.lastHelloAt = Date.now();
      this.lastDial = { startedAt: dialStartedAt, readyAt };
      void session.request(MessageType.amIVipHolder, NO_CONTENT_B64, 10_000).catch(() => {});
      void sendNodelog(
        client,
        { type: "NodeAgentLifecycle", severity: 3, message: "Agent started" },
        this.ctx.log,
      );
      this.startHeartbeats(session);
      return { session, helloMs };
    } catch (err) {
      // a refused stream ends before the hello answer: its reason and hint are the session's
      const reason: ConnectionEndReason = session && !session.isOpen ? await session.closed() : "dial_failed";
      const retryAfterMs = session?.retryAfterMs ?? 0;
      this.teardown();
      const message = refusal ? `stream refused: ${refusal}` : errorMessage(err);
      throw new ConnectFailure(message, reason, retryAfterMs, code);
    }
  }

  /**
   * A new channel per dial, built like createL2Client builds it, except that the node's TLS
   * credentials are made once: parsing the key and certificates takes about 1 ms, and thousands of
   * agents redialling at once would stall their worker's event loop with it (each real agent does
   * it on its own machine).
   */
  private newClient(): L2Client {
    const { endpoint, caPem } = this.ctx;
    this.credentials ??= grpc.credentials.createSsl(
      Buffer.from(caPem),
      Buffer.from(this.identity.keyPem),
      Buffer.from(this.identity.certPem),
    );
    return createTypedClient(
      L2Nodeward,
      hostPort(endpoint.host, endpoint.l2Port),
      this.credentials,
      channelOptions(endpoint.host),
    );
  }

  private closeCurrent(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    this.session?.close("shutdown");
    this.session = undefined;
    this.client?.close();
    this.client = undefined;
  }

  private teardown(): void {
    this.closeCurrent();
    this.prepared?.close();
    this.prepared = undefined;
  }

  private startHeartbeats(session: Session): void {
    const { heartbeatMs, beats } = this.ctx;
    let inFlight = false;
    const tick = async () => {
      if (!session.isOpen) return;
      if (inFlight) {
        if (beats.recording) beats.skipped += 1;
        return;
      }
      inFlight = true;
      const recording = beats.recording;
      const started = performance.now();
      if (recording) beats.sent += 1;
      try {
        await session.request(MessageType.heartbeat, encodeJsonB64(this.heartbeat), 10_000);
        if (recording && beats.recording) {
          beats.rttMs.push(performance.now() - started);
          beats.agentsWithBeat.add(this.identity.nid);
        }
      } catch (err) {
        if (recording) beats.failed += 1;
        if (!beats.quiet)
          this.ctx.log.warn({ nid: this.identity.nid, err: errorMessage(err) }, "heartbeat failed");
      } finally {
        inFlight = false;
      }
    };
    const first = setTimeout(
      () => {
        void tick();
        this.timers.push(setInterval(() => void tick(), heartbeatMs));
      },
      Math.floor(Math.random() * heartbeatMs),
    );
    this.timers.push(first);
  }
}
