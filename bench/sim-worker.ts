/**
 * A benchmark worker process: enrols machines, then runs its share of simulated agents against
 * nodeward and reports to bench/agents.ts over the fork IPC channel. Exits when the parent goes.
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { errorMessage } from "../src/common/errors.js";
import { createLogger } from "../src/common/log.js";
import { enrolMachines } from "./lib/enrol.js";
import type {
  AgentIdentity,
  ConnectReport,
  Endpoint,
  FromWorker,
  ToWorker,
  WorkerOptions,
} from "./lib/ipc.js";
import { BeatLog, SimAgent } from "./lib/sim-agent.js";
import { mapLimit } from "./lib/stats.js";

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

/** A dropped stream is redialled after 1 s, at most 3 times per agent (bounded, like a backoff). */
const redials = new Map<string, number>();
function onDisconnect(agent: SimAgent, reason: string): void {
  if (beats.quiet) return;
  disconnects += 1;
  log.warn({ nid: agent.identity.nid, reason }, "stream ended by the other side");
  const count = (redials.get(agent.identity.nid) ?? 0) + 1;
  redials.set(agent.identity.nid, count);
  if (count > 3) return;
  setTimeout(
    () => void agent.connect().catch((err) => log.warn({ err: errorMessage(err) }, "redial failed")),
    1_000,
  );
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
  };
  agents.length = 0;
  for (const identity of identities) agents.push(new SimAgent(identity, ctx));
  for (const agent of agents) agent.prepare();
}

async function connectAll(): Promise<ConnectReport> {
  const connectMs: number[] = [];
  const helloRttMs: number[] = [];
  const errors: string[] = [];
  let retries = 0;
  let lastHelloAt = 0;
  beats.reset();
  const cpuBefore = process.cpuUsage();
  startLoopDelay();
  const progress = setInterval(() => send({ kind: "progress", connected: connectMs.length }), 2_000);
  try {
    await mapLimit(agents, options.connectConcurrency, async (agent) => {
      const started = performance.now();
      for (let attempt = 1; attempt <= 3; attempt++) {
        try {
          helloRttMs.push(await agent.connect());
          connectMs.push(performance.now() - started);
          lastHelloAt = Math.max(lastHelloAt, Date.now());
          return;
        } catch (err) {
          if (errors.length < 10) errors.push(errorMessage(err));
          if (attempt < 3) {
            retries += 1;
            await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
          }
        }
      }
    });
  } finally {
    clearInterval(progress);
  }
  return {
    agents: agents.length,
    connected: connectMs.length,
    failed: agents.length - connectMs.length,
    retries,
    lastHelloAt,
    connectMs: connectMs.map(round2),
    helloRttMs: helloRttMs.map(round2),
    errors,
    ...cpuAndLoopDelay(cpuBefore),
    instructions: { ...beats.instructions },
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
      return send({ kind: "connected", report: await connectAll() });
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

process.on("message", (message: ToWorker) => {
  handle(message).catch((err: unknown) => send({ kind: "failed", message: errorMessage(err) }));
});
// the orchestrator is gone (finished, crashed or killed): never outlive it
process.on("disconnect", () => process.exit(0));
send({ kind: "ready" });
