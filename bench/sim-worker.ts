/**
 * A benchmark worker process: enrols machines, then runs its share of simulated agents against
 * nodeward and reports to bench/agents.ts over the fork IPC channel. Exits when the parent goes.
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { sleep } from "../src/common/clock.js";
import { createLogger } from "../src/common/log.js";
import { enrolMachines } from "./lib/enrol.js";
import type {
  AgentIdentity,
  ConnectReport,
  Endpoint,
  FromWorker,
  StormReport,
  ToWorker,
  WorkerOptions,
} from "./lib/ipc.js";
import { BeatLog, type ConnectFailure, DialSlots, SimAgent } from "./lib/sim-agent.js";
import { mapLimit } from "./lib/stats.js";
import { serveCommands } from "./lib/workers.js";

const options = JSON.parse(process.argv[2] ?? "{}") as WorkerOptions;
const log = createLogger({ level: "warn", base: { worker: options.index } });
const beats = new BeatLog();
const agents: SimAgent[] = [];
let disconnects = 0;
let endpoint: Endpoint | undefined;
let caPem = "";
let windowCpu = process.cpuUsage();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });

const round2 = (v: number) => Math.round(v * 100) / 100;

function send(message: FromWorker): void {
  process.send?.(message);
}

/**
 * The reconnect storm after nodeward was killed: per agent, when its stream dropped and when
 * nodeward answered its next hello. Set between storm-arm and storm-end.
 */
interface Storm {
  armedAt: number;
  droppedAt: Map<SimAgent, number>;
  backAt: Map<SimAgent, number>;
  /** Per agent back, the dial that brought it back: [started, channel ready] (Date.now()). */
  dialOfBack: Map<SimAgent, { startedAt: number; readyAt: number }>;
  /** Agents whose stream dropped again after they were back. */
  droppedAgain: number;
  cpuBefore: NodeJS.CpuUsage;
}
let storm: Storm | undefined;
/** Failures of the current phase (a few kept as samples; a storm has thousands). */
let phaseErrors: string[] = [];
let loggedDisconnects = 0;

/** Every agent runs the real agent's reconnect loop (SimAgent.keepConnected): no redial here. */
function onDisconnect(agent: SimAgent, reason: string): void {
  if (beats.quiet) return;
  disconnects += 1;
  if (storm) {
    if (storm.backAt.has(agent)) storm.droppedAgain += 1;
    else if (!storm.droppedAt.has(agent)) storm.droppedAt.set(agent, Date.now());
  }
  // a storm drops every stream at once: a few lines say it, the counters say the rest
  if (loggedDisconnects++ < 20)
    log.warn({ nid: agent.identity.nid, reason }, "stream ended by the other side");
}

function onOnline(agent: SimAgent): void {
  if (storm && !storm.backAt.has(agent)) {
    storm.backAt.set(agent, agent.lastHelloAt);
    storm.dialOfBack.set(agent, agent.lastDial);
  }
}

function onDialFailed(_agent: SimAgent, failure: ConnectFailure): void {
  if (phaseErrors.length < 10) phaseErrors.push(failure.message);
}

function prepare(identities: AgentIdentity[]): void {
  if (!endpoint) throw new Error("prepare before endpoint");
  const ctx = {
    endpoint,
    caPem,
    heartbeatMs: options.heartbeatMs,
    wireguard: options.wireguard,
    log,
    beats,
    onDisconnect,
    onOnline,
    onDialFailed,
    ...(options.dialConcurrency > 0 ? { dialSlots: new DialSlots(options.dialConcurrency) } : {}),
  };
  agents.length = 0;
  for (const identity of identities) agents.push(new SimAgent(identity, ctx));
  for (const agent of agents) agent.prepare();
}

/**
 * Starts every agent's reconnect loop (paced by --connect-concurrency: a lane is held until its
 * agent is online) and reports once all are online or `timeoutMs` passed. Agents that were not
 * online by then keep trying, as real agents would.
 */
async function connectAll(timeoutMs: number): Promise<ConnectReport> {
  const connectMs: number[] = [];
  const helloRttMs: number[] = [];
  let lastHelloAt = 0;
  beats.reset();
  phaseErrors = [];
  for (const agent of agents) agent.resetCounts();
  const cpuBefore = process.cpuUsage();
  startLoopDelay();
  const progress = setInterval(() => send({ kind: "progress", connected: connectMs.length }), 2_000);
  const expiry = new AbortController();
  const expired = sleep(timeoutMs, expiry.signal).then(() => undefined);
  try {
    await mapLimit(agents, options.connectConcurrency, async (agent) => {
      const started = performance.now();
      const helloMs = await Promise.race([agent.keepConnected(), expired]);
      if (helloMs === undefined) return;
      helloRttMs.push(helloMs);
      connectMs.push(performance.now() - started);
      lastHelloAt = Math.max(lastHelloAt, agent.lastHelloAt);
    });
  } finally {
    expiry.abort();
    clearInterval(progress);
  }
  return {
    agents: agents.length,
    connected: connectMs.length,
    failed: agents.length - connectMs.length,
    retries: agents.reduce((n, a) => n + a.counts.redials, 0),
    refusedWithHint: agents.reduce((n, a) => n + a.counts.refusedWithHint, 0),
    lastHelloAt,
    connectMs: connectMs.map(round2),
    helloRttMs: helloRttMs.map(round2),
    errors: phaseErrors,
    ...cpuAndLoopDelay(cpuBefore),
    instructions: { ...beats.instructions },
  };
}

/** Agents with a hello answered since the storm began and their stream still open. */
function onlineSince(armedAt: number): number {
  let online = 0;
  for (const agent of agents) if (agent.isOpen && agent.lastHelloAt >= armedAt) online += 1;
  return online;
}

function stormReport(current: Storm): StormReport {
  const counts = agents.map((a) => a.counts);
  const offlineMs: number[] = [];
  const split: StormReport["offlineSplitMs"] = { beforeDial: [], dialToReady: [], readyToHello: [] };
  let lastBackAt = 0;
  for (const [agent, backAt] of current.backAt) {
    const droppedAt = current.droppedAt.get(agent) ?? current.armedAt;
    const dial = current.dialOfBack.get(agent) ?? { startedAt: droppedAt, readyAt: droppedAt };
    offlineMs.push(backAt - droppedAt);
    split.beforeDial.push(dial.startedAt - droppedAt);
    split.dialToReady.push(dial.readyAt - dial.startedAt);
    split.readyToHello.push(backAt - dial.readyAt);
    lastBackAt = Math.max(lastBackAt, backAt);
  }
  const sum = (pick: (c: (typeof counts)[number]) => number) => counts.reduce((n, c) => n + pick(c), 0);
  return {
    agents: agents.length,
    online: onlineSince(current.armedAt),
    back: current.backAt.size,
    dropped: current.droppedAt.size,
    droppedAgain: current.droppedAgain,
    lastBackAt,
    offlineMs,
    offlineSplitMs: split,
    redials: sum((c) => c.redials),
    maxRedialsPerAgent: Math.max(0, ...counts.map((c) => c.redials)),
    dialFailures: sum((c) => c.dialFailures),
    refusedWithHint: sum((c) => c.refusedWithHint),
    retryHintsMs: counts.flatMap((c) => c.retryHintsMs),
    terminalRefusals: sum((c) => c.terminalRefusals),
    agentsGaveUp: counts.filter((c) => c.terminalRefusals > 0).length,
    errors: phaseErrors,
    instructions: { ...beats.instructions },
    ...cpuAndLoopDelay(current.cpuBefore),
  };
}

function startLoopDelay(): void {
  loopDelay.reset();
  loopDelay.enable();
}

/** CPU since `before` and the event-loop delay since startLoopDelay(), in seconds and ms. */
function cpuAndLoopDelay(before: NodeJS.CpuUsage) {
  loopDelay.disable();
  const cpu = process.cpuUsage(before);
  const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);
  return {
    workerCpuSeconds: (cpu.user + cpu.system) / 1e6,
    eventLoopDelayMs: {
      p50: ms(loopDelay.percentile(50)),
      p99: ms(loopDelay.percentile(99)),
      max: ms(loopDelay.max),
    },
  };
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.kind) {
    case "enrol": {
      const outcome = await enrolMachines(message.endpoint, message.caPem, message.aid, message.machines, {
        concurrency: options.enrolConcurrency,
        wireguard: options.wireguard,
        log,
      });
      return send({ kind: "enrolled", ...outcome });
    }
    case "prepare":
      endpoint = message.endpoint;
      caPem = message.caPem;
      prepare(message.identities);
      return send({ kind: "prepared" });
    case "connect":
      return send({ kind: "connected", report: await connectAll(message.timeoutMs ?? 240_000) });
    case "storm-arm": {
      for (const agent of agents) agent.resetCounts();
      beats.reset();
      phaseErrors = [];
      loggedDisconnects = 0;
      storm = {
        armedAt: Date.now(),
        droppedAt: new Map(),
        backAt: new Map(),
        dialOfBack: new Map(),
        droppedAgain: 0,
        cpuBefore: process.cpuUsage(),
      };
      startLoopDelay();
      return send({ kind: "storm-armed", online: onlineSince(0) });
    }
    case "storm-status":
      return send({ kind: "storm-status", online: storm ? onlineSince(storm.armedAt) : 0 });
    case "storm-end": {
      if (!storm) throw new Error("storm-end before storm-arm");
      const report = stormReport(storm);
      storm = undefined;
      return send({ kind: "storm-report", report });
    }
    case "window-start": {
      const instructionsSinceConnect = { ...beats.instructions };
      beats.reset();
      beats.recording = true;
      disconnects = 0;
      windowCpu = process.cpuUsage();
      startLoopDelay();
      return send({ kind: "window-started", instructionsSinceConnect });
    }
    case "window-end": {
      beats.recording = false;
      return send({
        kind: "window-report",
        report: {
          rttMs: beats.rttMs.map(round2),
          sent: beats.sent,
          failed: beats.failed,
          skipped: beats.skipped,
          agentsWithBeat: beats.agentsWithBeat.size,
          disconnects,
          openSessions: agents.filter((a) => a.isOpen).length,
          instructions: { ...beats.instructions },
          workerRssKiB: Math.round(process.memoryUsage().rss / 1024),
          ...cpuAndLoopDelay(windowCpu),
        },
      });
    }
    case "quiesce":
      beats.quiet = true;
      return send({ kind: "quiesced" });
    case "stop":
      for (const agent of agents) agent.stop();
      send({ kind: "stopped" });
      setTimeout(() => process.exit(0), 500).unref();
      return;
  }
}

serveCommands(handle);
