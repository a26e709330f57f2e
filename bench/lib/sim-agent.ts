import { performance } from "node:perf_hooks";
import { agentCapabilities } from "../../src/agent/daemon/connection.js";
import type { DispatchDeps } from "../../src/agent/daemon/dispatch.js";
import { Session, type StreamLike } from "../../src/agent/daemon/session.js";
import type { InstructionHandler } from "../../src/agent/instructions/define.js";
import { createHandlerRegistry } from "../../src/agent/instructions/index.js";
import { createL2Client, type L2Client, waitForReady } from "../../src/agent/link/clients.js";
import { sendNodelog } from "../../src/agent/link/nodelog.js";
import { agentVersion } from "../../src/agent/version.js";
import { errorMessage } from "../../src/common/errors.js";
import type { Logger } from "../../src/common/log.js";
import { encodeJsonB64, NO_CONTENT_B64 } from "../../src/wire/envelope.js";
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
  /** Capabilities announced in the hello; the real agent's by default. */
  capabilities?: readonly string[];
  /** The stream ended without us asking (nodeward closed it or the connection broke). */
  onDisconnect(agent: SimAgent, reason: string): void;
}

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
 * and each round trip is timed.
 */
export class SimAgent {
  private client: L2Client | undefined;
  /** A channel made ahead of the first dial (lazy: it connects only when asked). */
  private prepared: L2Client | undefined;
  private session: Session | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private readonly dispatch: DispatchDeps;
  private readonly heartbeat: Heartbeat;

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

  /** One dial: resolves with the hello round trip once nodeward answered it; cleans up on failure. */
  async connect(): Promise<number> {
    if (this.stopping) throw new Error("agent stopped");
    const { endpoint } = this.ctx;
    const client = this.prepared ?? this.newClient();
    this.prepared = undefined;
    this.closeCurrent(); // a redial: the dead session's channel and timers go first
    this.client = client;
    try {
      await waitForReady(client, 20_000, `${endpoint.host}:${endpoint.l2Port}`);
      const stream = client.nodeAgentStream() as unknown as StreamLike;
      const session = new Session(stream, this.dispatch, this.ctx.log, {
        workers: 5,
        queueLimit: 100,
        drainMs: 30_000,
      });
      this.session = session;
      void session.closed().then((reason) => {
        if (!this.stopping && this.session === session) this.ctx.onDisconnect(this, reason);
      });
      const started = performance.now();
      const answer = await session.request(
        MessageType.agentHello,
        encodeJsonB64({ version: agentVersion, capabilities: this.ctx.capabilities ?? agentCapabilities }),
        10_000,
      );
      const helloMs = performance.now() - started;
      if (answer.type !== MessageType.nodewardHello) throw new Error(`hello answered with ${answer.type}`);
      void session.request(MessageType.amIVipHolder, NO_CONTENT_B64, 10_000).catch(() => {});
      void sendNodelog(
        client,
        { type: "NodeAgentLifecycle", severity: 3, message: "Agent started" },
        this.ctx.log,
      );
      this.startHeartbeats(session);
      return helloMs;
    } catch (err) {
      this.teardown();
      throw err;
    }
  }

  /** Ends the stream and the channel; the agent stays stopped. */
  stop(): void {
    this.stopping = true;
    this.teardown();
  }

  private newClient(): L2Client {
    const { endpoint, caPem } = this.ctx;
    return createL2Client(endpoint, { caPem, certPem: this.identity.certPem, keyPem: this.identity.keyPem });
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
