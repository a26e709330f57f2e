/**
 * A bench:fanout worker process: enrols machines, runs its share of simulated agents (some
 * announcing `peers-delta`, some not) and, while a join or leave is watched, records when each
 * agent of the watched cluster applied the change and what it received meanwhile. Reports to
 * bench/fanout.ts over the fork IPC channel; exits when the parent goes.
 */
import { errorMessage } from "../src/common/errors.js";
import { createLogger } from "../src/common/log.js";
import { encodeJsonB64 } from "../src/wire/envelope.js";
import { enrolMachines } from "./lib/enrol.js";
import type {
  Activity,
  FanoutAgent,
  FanoutConnectReport,
  FanoutWorkerOptions,
  FromFanoutWorker,
  Mode,
  Receiver,
  ToFanoutWorker,
  Traffic,
  Watch,
  WatchReport,
} from "./lib/fanout-ipc.js";
import { addTraffic, applies, capabilitiesOf, type PeerPayload, peerTypes } from "./lib/fanout-watch.js";
import type { Endpoint } from "./lib/ipc.js";
import { type AgentContext, BeatLog, SimAgent } from "./lib/sim-agent.js";
import { mapLimit } from "./lib/stats.js";
import { serveCommands } from "./lib/workers.js";

const options = JSON.parse(process.argv[2] ?? "{}") as FanoutWorkerOptions;
const log = createLogger({ level: "warn", base: { worker: options.index } });
const beats = new BeatLog();
const agents: SimAgent[] = [];
const clusterOf = new Map<string, string>();
let quiet = false;
let disconnects = 0;
let lastInstructionAt = 0;
let instructions: Record<string, number> = {};

/** The watch in progress and what it has seen so far. */
let current:
  | {
      watch: Watch;
      receivers: Map<string, Receiver>;
      inCluster: Traffic;
      elsewhere: Traffic;
      cpu: NodeJS.CpuUsage;
    }
  | undefined;

function send(message: FromFanoutWorker): void {
  process.send?.(message);
}

beats.onHandled = (nid, type, payload, finishedAt) => {
  lastInstructionAt = Math.max(lastInstructionAt, finishedAt);
  instructions[type] = (instructions[type] ?? 0) + 1;
  if (!current) return;
  // The payload as nodeward sent it: the handler got it parsed; the schemas keep every field
  // nodeward sets, so encoding it again gives the envelope's base64 JSON, byte for byte.
  const bytes = encodeJsonB64(payload).length;
  const inCluster = clusterOf.get(nid) === current.watch.cluster;
  addTraffic(inCluster ? current.inCluster : current.elsewhere, type, 1, bytes);
  const receiver = inCluster ? current.receivers.get(nid) : undefined;
  if (!receiver || !peerTypes.has(type)) return;
  receiver.peerMessages += 1;
  receiver.peerBytes += bytes;
  if (applies(current.watch, type, payload as PeerPayload)) {
    receiver.appliedAt ??= finishedAt;
    receiver.lastAt = finishedAt;
  }
};

/** A dropped stream is redialled after 1 s, at most 3 times per agent (bounded, like a backoff). */
const redials = new Map<string, number>();
function onDisconnect(agent: SimAgent, reason: string): void {
  if (quiet) return;
  disconnects += 1;
  log.warn({ nid: agent.identity.nid, reason }, "stream ended by the other side");
  const n = (redials.get(agent.identity.nid) ?? 0) + 1;
  redials.set(agent.identity.nid, n);
  if (n > 3) return;
  setTimeout(
    () => void agent.connect().catch((err) => log.warn({ err: errorMessage(err) }, "redial failed")),
    1_000,
  );
}

function prepare(endpoint: Endpoint, caPem: string, assigned: FanoutAgent[]): void {
  const base = {
    endpoint,
    caPem,
    heartbeatMs: options.heartbeatMs,
    wireguard: true,
    log,
    beats,
    onDisconnect,
  };
  const contexts: Record<Mode, AgentContext> = {
    delta: { ...base, capabilities: capabilitiesOf.delta },
    full: { ...base, capabilities: capabilitiesOf.full },
  };
  agents.length = 0;
  clusterOf.clear();
  for (const { identity, mode } of assigned) {
    agents.push(new SimAgent(identity, contexts[mode]));
    clusterOf.set(identity.nid, identity.cluster);
  }
  for (const agent of agents) agent.prepare();
}

const maxAttempts = 5;

async function connectAll(): Promise<FanoutConnectReport> {
  const connectMs: number[] = [];
  const errors: string[] = [];
  let retries = 0;
  let lastHelloAt = 0;
  instructions = {};
  disconnects = 0;
  const cpuBefore = process.cpuUsage();
  const progress = setInterval(() => send({ kind: "progress", connected: connectMs.length }), 2_000);
  try {
    await mapLimit(agents, options.connectConcurrency, async (agent) => {
      const started = performance.now();
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        try {
          await agent.connect();
          connectMs.push(Math.round((performance.now() - started) * 100) / 100);
          lastHelloAt = Math.max(lastHelloAt, Date.now());
          return;
        } catch (err) {
          if (errors.length < 10) errors.push(errorMessage(err));
          if (attempt < maxAttempts) {
            retries += 1;
            await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt * (0.5 + Math.random())));
          }
        }
      }
    });
  } finally {
    clearInterval(progress);
  }
  const cpu = process.cpuUsage(cpuBefore);
  return {
    agents: agents.length,
    connected: connectMs.length,
    failed: agents.length - connectMs.length,
    retries,
    lastHelloAt,
    connectMs,
    errors,
    workerCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

function arm(watch: Watch): number {
  const receivers = new Map<string, Receiver>();
  for (const agent of agents) {
    if (agent.identity.cluster !== watch.cluster) continue;
    receivers.set(agent.identity.nid, {
      appliedAt: null,
      lastAt: null,
      peerMessages: 0,
      peerBytes: 0,
      open: agent.isOpen,
    });
  }
  current = { watch, receivers, inCluster: {}, elsewhere: {}, cpu: process.cpuUsage() };
  return receivers.size;
}

function collect(): WatchReport {
  if (!current) throw new Error("collect without a watch");
  const cpu = process.cpuUsage(current.cpu);
  const report: WatchReport = {
    receivers: [...current.receivers.values()],
    inCluster: current.inCluster,
    elsewhere: current.elsewhere,
    workerCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  current = undefined;
  return report;
}

function activity(): Activity {
  return {
    lastInstructionAt,
    instructions: { ...instructions },
    open: agents.filter((a) => a.isOpen).length,
    disconnects,
  };
}

async function handle(message: ToFanoutWorker): Promise<void> {
  switch (message.kind) {
    case "enrol": {
      const outcome = await enrolMachines(message.endpoint, message.caPem, message.aid, message.machines, {
        concurrency: options.enrolConcurrency,
        wireguard: true,
        log,
      });
      return send({ kind: "enrolled", ...outcome });
    }
    case "prepare":
      prepare(message.endpoint, message.caPem, message.agents);
      return send({ kind: "prepared" });
    case "connect":
      return send({ kind: "connected", report: await connectAll() });
    case "activity":
      return send({ kind: "activity", activity: activity() });
    case "arm":
      return send({ kind: "armed", watched: arm(message.watch) });
    case "status": {
      const receivers = current ? [...current.receivers.values()] : [];
      return send({
        kind: "status",
        watched: receivers.length,
        open: receivers.filter((r) => r.open).length,
        applied: receivers.filter((r) => r.appliedAt !== null).length,
        lastInstructionAt,
      });
    }
    case "collect":
      return send({ kind: "collected", report: collect() });
    case "quiesce":
      quiet = true;
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
