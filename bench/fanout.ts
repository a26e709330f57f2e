/**
 * bench:fanout — how fast a join reaches every other node of its cluster, and how many bytes it
 * costs, with peer deltas and with the full peer list (the original agent's way) in the same run.
 *
 * One nodeward process (bin/nodeward.js serve) and, per mode, `--clusters` clusters of
 * `--cluster-size` simulated nodes with wg0: the "delta" clusters' agents announce `peers-delta`,
 * the "full" clusters' agents do not, so nodeward sends them the whole SET_VPN_PEERS list. After
 * every agent connected and nodeward went quiet, new machines join one at a time, alternating
 * between the modes: Register, ManualSync with the joiner's WireGuard key, then its stream (or the
 * stream before ManualSync, `--join-order stream-first`). Every other node of the cluster reports
 * when its handler finished the first message carrying the joiner's key and what peer messages it
 * got meanwhile. Each joiner is then deleted (a leave, measured the same way), so every join meets
 * a cluster of the same size. Not part of the test suite. See docs/benchmarks.md.
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { createL1Client, createL2Client, type L1Client, type L2Client } from "../src/agent/link/clients.js";
import { syncVpn } from "../src/agent/vpn/sync.js";
import { errorMessage } from "../src/common/errors.js";
import { createLogger } from "../src/common/log.js";
import { generateNodeKeyAndCsr } from "../src/common/pki.js";
import { encodeJsonB64 } from "../src/wire/envelope.js";
import { apiClient } from "./lib/api.js";
import { benchHost, nodeFacts } from "./lib/fake-host.js";
import type {
  FanoutAgent,
  FanoutConnectReport,
  FanoutWorkerOptions,
  FromFanoutWorker,
  Mode,
  ToFanoutWorker,
  Traffic,
  Watch,
  WatchReport,
} from "./lib/fanout-ipc.js";
import { addTraffic, capabilitiesOf, peerTypes } from "./lib/fanout-watch.js";
import { IdentityCache } from "./lib/identity-cache.js";
import type { AgentIdentity } from "./lib/ipc.js";
import { type CodeState, describeCode, describeMachine, type Machine } from "./lib/machine.js";
import { type NodewardProcess, startNodeward } from "./lib/nodeward-process.js";
import { cpuPressureMeter, cpuSeconds, openFilesLimit, rssKiB } from "./lib/proc-stats.js";
import { benchDirs, chunks, endpointOf, guardRun, reportResult, requireOpenFiles } from "./lib/run.js";
import { BeatLog, SimAgent } from "./lib/sim-agent.js";
import { rounded, type Summary, summarise } from "./lib/stats.js";
import { ForkedWorker } from "./lib/workers.js";

const aid = "fanout";
const modes: readonly Mode[] = ["delta", "full"];
const workerScript = new URL("./fanout-worker.ts", import.meta.url).pathname;
/** nodeward gives each cluster one /24 of the overlay (src/nodeward/cluster/ipam.ts): 253 nodes. */
const overlayHostsPerCluster = 253;

interface Options {
  clusters: number;
  clusterSize: number;
  joins: number;
  /**
   * sync-first: Register, ManualSync, stream (an agent that starts with wg0 up: syncVpnAtStart
   * runs before its stream). stream-first: Register, stream, ManualSync (getting-started.md:
   * `runos agent`, then `runos install wireguard`).
   */
  joinOrder: "sync-first" | "stream-first";
  /** sync-first only: pause between ManualSync's answer and the stream's dial. */
  streamDelayMs: number;
  workers: number;
  heartbeatMs: number;
  connectConcurrency: number;
  enrolConcurrency: number;
  applyTimeoutSeconds: number;
  quietMs: number;
  settleSeconds: number;
  baselineSeconds: number;
  workDir: string;
  fresh: boolean;
  logLevel: string;
  cpuProf: boolean;
  maxMinutes: number;
}

const usage = `usage: node --import tsx bench/fanout.ts [options]   (npm run bench:fanout -- [options])

  --clusters K               clusters per mode (default 4): K "delta" clusters whose agents announce
                             peers-delta, K "full" clusters whose agents do not (the original's way)
  --cluster-size M           nodes per cluster (default 250). nodeward gives a cluster one /24, so
                             M + 1 (the joiner) must stay within ${overlayHostsPerCluster}
  --joins J                  joins per mode (default 5), alternating delta/full, round-robin over the
                             clusters; each joiner is deleted again after its join was measured
  --join-order ORDER         sync-first (default): Register, ManualSync, then the stream, as an agent
                             starting with wg0 up does; stream-first: Register, stream, then ManualSync,
                             as in getting-started.md (runos agent, then runos install wireguard)
  --stream-delay-ms MS       sync-first: pause between ManualSync and the stream (default 0; the
                             overlay debounces 100 ms, so a longer pause makes the stream its own push)
  --workers W                worker processes running the agents (default 2, 4 from 1,500 agents)
  --heartbeat-ms MS          heartbeat interval (default 5000, as the real agent)
  --connect-concurrency C    dials in flight per worker (default 25)
  --enrol-concurrency C      registrations in flight per worker (default 8)
  --apply-timeout-seconds S  how long a node may take to apply a join or leave before it counts as
                             never applied (default 30)
  --quiet-ms MS              nodeward has stopped pushing when no agent got an instruction for this
                             long (default 3000; after connecting, the wait is at least 5000)
  --settle-seconds S         bound on waiting for nodeward to go quiet after the connect (default 180)
  --baseline-seconds S       idle window measuring nodeward's CPU without joins (default 30: one
                             period of the presence writes, which would otherwise land in some joins only)
  --work-dir DIR             nodeward data dir, identity cache, logs, results (default /tmp/runos-bench-fanout)
  --fresh                    delete the work dir first (new CA: every agent enrols again)
  --log-level LEVEL          nodeward log level (default info)
  --cpu-prof                 write a V8 CPU profile of nodeward into DIR/profiles; the results file
                             records each join's span for bench/profile-summary.ts --phase join-N-MODE
  --max-minutes M            hard stop for the whole run (default 30)
`;

function parseOptions(argv: string[]): Options | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      clusters: { type: "string", default: "4" },
      "cluster-size": { type: "string", default: "250" },
      joins: { type: "string", default: "5" },
      "join-order": { type: "string", default: "sync-first" },
      "stream-delay-ms": { type: "string", default: "0" },
      workers: { type: "string" },
      "heartbeat-ms": { type: "string", default: "5000" },
      "connect-concurrency": { type: "string", default: "25" },
      "enrol-concurrency": { type: "string", default: "8" },
      "apply-timeout-seconds": { type: "string", default: "30" },
      "quiet-ms": { type: "string", default: "3000" },
      "settle-seconds": { type: "string", default: "180" },
      "baseline-seconds": { type: "string", default: "30" },
      "work-dir": { type: "string", default: "/tmp/runos-bench-fanout" },
      fresh: { type: "boolean", default: false },
      "log-level": { type: "string", default: "info" },
      "cpu-prof": { type: "boolean", default: false },
      "max-minutes": { type: "string", default: "30" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const clusters = int(values.clusters, "--clusters", 1, 100);
  // larger than a /24 is allowed on purpose: nodeward refuses at enrolment, and says why
  const clusterSize = int(values["cluster-size"], "--cluster-size", 2, 10_000);
  const agents = 2 * clusters * clusterSize;
  return {
    clusters,
    clusterSize,
    joins: int(values.joins, "--joins", 1, 100),
    joinOrder: joinOrder(values["join-order"]),
    streamDelayMs: int(values["stream-delay-ms"], "--stream-delay-ms", 0, 60_000),
    workers: values.workers ? int(values.workers, "--workers", 1, 16) : agents >= 1_500 ? 4 : 2,
    heartbeatMs: int(values["heartbeat-ms"], "--heartbeat-ms", 100, 600_000),
    connectConcurrency: int(values["connect-concurrency"], "--connect-concurrency", 1, 10_000),
    enrolConcurrency: int(values["enrol-concurrency"], "--enrol-concurrency", 1, 256),
    applyTimeoutSeconds: int(values["apply-timeout-seconds"], "--apply-timeout-seconds", 1, 600),
    quietMs: int(values["quiet-ms"], "--quiet-ms", 500, 60_000),
    settleSeconds: int(values["settle-seconds"], "--settle-seconds", 10, 3_600),
    baselineSeconds: int(values["baseline-seconds"], "--baseline-seconds", 2, 600),
    workDir: values["work-dir"],
    fresh: values.fresh,
    logLevel: values["log-level"],
    cpuProf: values["cpu-prof"],
    maxMinutes: int(values["max-minutes"], "--max-minutes", 1, 600),
  };
}

function joinOrder(text: string): Options["joinOrder"] {
  if (text === "sync-first" || text === "stream-first") return text;
  throw new Error(`--join-order must be sync-first or stream-first, got "${text}"`);
}

function int(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new Error(`${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

type Worker = ForkedWorker<ToFanoutWorker, FromFanoutWorker>;

interface Run {
  options: Options;
  dirs: { data: string; logs: string; results: string; profiles: string };
  cache: IdentityCache;
  nodeward: NodewardProcess | undefined;
  workers: Worker[];
  /** Joiners still connected (stopped when their leave was measured, or on exit). */
  joiners: Set<SimAgent>;
}

/** Everything one join or leave did, as measured. */
interface WatchResult {
  /** The join's number; its leave has the same. */
  id: number;
  kind: "join" | "leave";
  mode: Mode;
  cluster: string;
  nid: string;
  /** Other nodes of the cluster, and how many of them had an open stream when the watch began. */
  receivers: number;
  receiversOpen: number;
  /**
   * Wall-clock milestones (ms after the first one). A join: Register sent, Register answered,
   * ManualSync answered (t0: nodeward knows the key), the joiner's hello answered. A leave:
   * DELETE sent and answered (t0).
   */
  milestonesMs: Record<string, number>;
  /** Per receiver, from t0 to its handler finishing the first message that applied the change. */
  appliedMs: Summary;
  /** The same from the join's Register (or the DELETE) being sent. */
  appliedFromStartMs: Summary;
  /** Per receiver, from t0 to the last message that touched the joiner's entry (refinements). */
  lastMs: Summary;
  /** Receivers (open or not) that had not applied the change within --apply-timeout-seconds. */
  neverApplied: number;
  /** From t0 until every open receiver had applied, as the orchestrator saw it (polled every 100 ms). */
  allAppliedMs: number | null;
  peer: {
    /** Bytes of SET_VPN_PEERS and RUNOS_VPN_PEERS_DELTA payloads, summed over the receivers. */
    bytes: number;
    messages: number;
    bytesPerReceiver: number;
    messagesPerReceiver: number;
    /** Per receiver: the spread of what each got. */
    bytesPerReceiverSpread: Summary;
  };
  /** Everything the receivers got meanwhile, by type; then what other clusters' agents got (should be nothing). */
  inCluster: Traffic;
  elsewhere: Traffic;
  /** What the joiner itself received over its stream (its own full set), for joins. */
  joiner?: Traffic;
  nodewardCpu: {
    /** From the start to every open receiver having applied. */
    toAllAppliedSeconds: number | null;
    /** The whole watch window, until nodeward was quiet again. */
    windowSeconds: number;
    cpuSeconds: number;
    /** cpuSeconds minus the idle rate (heartbeats) over the window. */
    netCpuSeconds: number;
  };
  workersCpuSeconds: number;
  /** The raw per-receiver times behind appliedMs, appliedFromStartMs and lastMs (for pooling). */
  samples: { appliedMs: number[]; appliedFromStartMs: number[]; lastMs: number[] };
  /** Wall clock (Date.now()): from the start until every open receiver applied (or the window ended). */
  span: { start: number; end: number };
  /** The watch window did not go quiet within its bound. */
  quietTimedOut: boolean;
  cpuPressure: number | null;
}

interface ModeSummary {
  watches: number;
  /** Pooled over every receiver of every join (or leave) of the mode. */
  appliedMs: Summary;
  appliedFromStartMs: Summary;
  lastMs: Summary;
  neverApplied: number;
  receiversPerWatch: number;
  peerBytesPerWatch: number;
  peerBytesPerReceiver: number;
  peerMessagesPerReceiver: number;
  /** Per receiver per watch, divided by the peers in a receiver's full set after a join (cluster size). */
  peerBytesPerReceiverPerPeerInSet: number;
  joinerOwnBytes: number;
  nodewardCpuSecondsPerWatch: number;
  nodewardNetCpuSecondsPerWatch: number;
  nodewardCpuToAllAppliedSeconds: number;
}

interface FanoutResult {
  startedAt: string;
  machine: Machine;
  code: CodeState;
  options: Omit<Options, "workDir" | "fresh">;
  agents: number;
  enrolment: { enrolled: number; failed: number; seconds: number } | "cached";
  connect: {
    connected: number;
    failed: number;
    retries: number;
    seconds: number;
    perAgentMs: Summary;
    errors: string[];
    nodewardCpuSeconds: number;
    workersCpuSeconds: number;
    /** From the last hello until nodeward had pushed nothing for the quiet time. */
    settleSeconds: number;
    settleTimedOut: boolean;
    instructionsUntilQuiet: Record<string, number>;
    openAfterSettle: number;
    disconnects: number;
    cpuPressure: number | null;
  };
  baseline: { seconds: number; nodewardCores: number; nodewardRssMiB: number };
  joins: WatchResult[];
  leaves: WatchResult[];
  summary: {
    join: Record<Mode, ModeSummary>;
    leave: Record<Mode, ModeSummary>;
    /** Peer bytes per join, full / delta. */
    fullOverDeltaBytes: number;
  };
  cpuPressureJoins: number | null;
  nodewardRssMiBAtEnd: number;
  /**
   * Where the phases lie in a --cpu-prof profile: [start, end] in seconds before nodeward exited.
   * "join-3-full" runs from the join's Register to every receiver having applied it.
   */
  phasesBeforeExitSeconds: Record<string, [number, number]>;
  loadAverage1mAtEnd: number;
}

const log = createLogger({ level: "warn", base: { bench: "fanout" } });
/** The joiner's stream ends with UNAUTHENTICATED when it is deleted: expected, not news. */
const joinerLogger = createLogger({ level: "error", base: { bench: "fanout", joiner: true } });

function say(text: string): void {
  process.stderr.write(`[fanout] ${text}\n`);
}

function killAll(run: Run): void {
  for (const joiner of run.joiners) joiner.stop();
  for (const worker of run.workers) worker.kill();
  run.nodeward?.kill();
}

const clusterName = (mode: Mode, index: number) => `${mode}-${index}`;
const modeOf = (cluster: string): Mode => (cluster.startsWith("full-") ? "full" : "delta");

function wantedClusters(options: Options): string[] {
  return modes.flatMap((mode) => Array.from({ length: options.clusters }, (_, i) => clusterName(mode, i)));
}

async function startMeasuredNodeward(run: Run): Promise<NodewardProcess> {
  run.nodeward = await startNodeward({
    dataDir: run.dirs.data,
    logFile: join(run.dirs.logs, "nodeward.log"),
    logLevel: run.options.logLevel,
    diagnosticDir: run.dirs.profiles,
    cpuProf: run.options.cpuProf,
    heapSnapshots: false,
  });
  say(`nodeward pid ${run.nodeward.pid} on L1 ${run.nodeward.ports.l1}, L2 ${run.nodeward.ports.l2}`);
  return run.nodeward;
}

/** Joiners of earlier runs that were not deleted (a crash, Ctrl-C): they would change the cluster sizes. */
async function deleteLeftovers(nw: NodewardProcess, cached: readonly AgentIdentity[]): Promise<void> {
  const api = apiClient(nw.api, nw.adminToken());
  const known = new Set(cached.map((i) => i.nid));
  const leftovers = (await api.listNodes()).filter((n) => n.aid === aid && !known.has(n.nid));
  for (const node of leftovers) await api.deleteNode(node.nid);
  if (leftovers.length) say(`deleted ${leftovers.length} nodes left over from earlier runs`);
}

/** Enrols what the cache lacks, per cluster; returns every agent of the wanted clusters. */
async function ensureIdentities(
  run: Run,
  nw: NodewardProcess,
): Promise<{ identities: AgentIdentity[]; enrolment: FanoutResult["enrolment"] }> {
  const caPem = nw.caPem();
  const { clusterSize } = run.options;
  const cached = run.cache.identities(caPem);
  await deleteLeftovers(nw, cached);
  const clusters = wantedClusters(run.options);
  const have = new Map<string, number>();
  for (const identity of cached) have.set(identity.cluster, (have.get(identity.cluster) ?? 0) + 1);
  const wanted = clusters.flatMap((c) =>
    Array.from({ length: Math.max(0, clusterSize - (have.get(c) ?? 0)) }, () => c),
  );
  const pick = (all: readonly AgentIdentity[]) => all.filter((i) => clusters.includes(i.cluster));
  if (wanted.length === 0) {
    say(`using ${clusters.length * clusterSize} cached identities`);
    return { identities: pick(cached), enrolment: "cached" };
  }
  say(`enrolling ${wanted.length} machines (${cached.length} cached) through L1Sec Register + ManualSync`);
  const api = apiClient(nw.api, nw.adminToken());
  const tokens = new Map<string, string>();
  for (const cluster of new Set(wanted)) {
    const uses = wanted.filter((c) => c === cluster).length;
    tokens.set(cluster, await api.createToken({ aid, cluster, ttlSeconds: 7_200, uses }));
  }
  const machines = wanted.map((cluster) => ({
    machineId: randomUUID().replaceAll("-", ""),
    cluster,
    token: tokens.get(cluster) ?? "",
  }));
  const started = performance.now();
  const replies = await Promise.all(
    chunks(machines, run.workers.length).map((part, i) =>
      (run.workers[i] as Worker).request(
        { kind: "enrol", endpoint: endpointOf(nw), caPem, aid, machines: part },
        "enrolled",
        120_000 + part.length * 500,
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const fresh = replies.flatMap((r) => r.identities);
  const failed = replies.reduce((n, r) => n + r.failures, 0);
  const errors = replies.flatMap((r) => r.errors);
  for (const error of errors.slice(0, 5)) say(`enrolment error: ${error}`);
  const all = [...cached, ...fresh];
  run.cache.save(caPem, all);
  say(`enrolled ${fresh.length} in ${seconds.toFixed(1)} s, ${failed} failed`);
  // nodeward answers a full cluster's Register with INTERNAL today (NA_CONFLICT has no gRPC status)
  if (errors.some((e) => /no free address/.test(e)) || (failed > 0 && clusterSize > overlayHostsPerCluster)) {
    throw new Error(
      `nodeward has no overlay address left in a cluster: it gives each cluster one /24 (${overlayHostsPerCluster} nodes), so --cluster-size ${clusterSize} cannot be enrolled; use --cluster-size ${overlayHostsPerCluster - 3} or less and more --clusters`,
    );
  }
  const identities = pick(all);
  if (identities.length < clusters.length * clusterSize) {
    throw new Error(`only ${identities.length} identities for ${clusters.length * clusterSize} agents`);
  }
  return { identities, enrolment: { enrolled: fresh.length, failed, seconds } };
}

async function connectAll(run: Run, nw: NodewardProcess) {
  const progress = new Map<number, number>();
  const ticker = setInterval(() => {
    const done = [...progress.values()].reduce((a, b) => a + b, 0);
    say(`  connected ${done}, nodeward RSS ${((rssKiB(nw.pid) ?? 0) / 1024).toFixed(0)} MiB`);
  }, 5_000);
  for (const worker of run.workers) {
    worker.onEvent = (message) => {
      if (message.kind === "progress") progress.set(worker.index, message.connected);
    };
  }
  const cpuBefore = cpuSeconds(nw.pid) ?? 0;
  const pressure = cpuPressureMeter();
  const started = Date.now();
  try {
    const reports: FanoutConnectReport[] = (
      await Promise.all(run.workers.map((w) => w.request({ kind: "connect" }, "connected", 600_000)))
    ).map((r) => r.report);
    const lastHelloAt = Math.max(...reports.map((r) => r.lastHelloAt));
    return {
      startedAt: started,
      lastHelloAt,
      connected: reports.reduce((n, r) => n + r.connected, 0),
      failed: reports.reduce((n, r) => n + r.failed, 0),
      retries: reports.reduce((n, r) => n + r.retries, 0),
      seconds: (lastHelloAt - started) / 1000,
      perAgentMs: rounded(summarise(reports.flatMap((r) => r.connectMs))),
      errors: [...new Set(reports.flatMap((r) => r.errors))].slice(0, 10),
      nodewardCpuSeconds: (cpuSeconds(nw.pid) ?? 0) - cpuBefore,
      workersCpuSeconds: reports.reduce((n, r) => n + r.workerCpuSeconds, 0),
      cpuPressure: pressure(),
    };
  } finally {
    clearInterval(ticker);
  }
}

/** Latest instruction any agent (or a joiner) handled, as Date.now(). */
async function lastInstructionAt(run: Run, joinerLast: () => number): Promise<number> {
  const statuses = await Promise.all(run.workers.map((w) => w.request({ kind: "status" }, "status", 10_000)));
  return Math.max(joinerLast(), ...statuses.map((s) => s.lastInstructionAt));
}

/**
 * Waits until no agent handled an instruction for quietMs, and not before notBefore (bounded by
 * boundMs). Returns when it went quiet and whether the bound cut the wait short.
 */
async function waitQuiet(
  run: Run,
  notBefore: number,
  quietMs: number,
  boundMs: number,
  joinerLast: () => number = () => 0,
): Promise<{ quietAt: number; timedOut: boolean }> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    const last = await lastInstructionAt(run, joinerLast);
    const now = Date.now();
    if (now >= notBefore && now - last >= quietMs) return { quietAt: now, timedOut: false };
    await sleep(250);
  }
  return { quietAt: Date.now(), timedOut: true };
}

function mergeTraffic(parts: readonly Traffic[]): Traffic {
  const total: Traffic = {};
  for (const part of parts) {
    for (const [type, t] of Object.entries(part)) addTraffic(total, type, t.count, t.bytes);
  }
  return total;
}

/** A joiner's own BeatLog: what nodeward sent it over its stream, and when it last sent anything. */
function joinerLog(): { beats: BeatLog; traffic: Traffic; last: () => number } {
  const beats = new BeatLog();
  const traffic: Traffic = {};
  let last = 0;
  beats.onHandled = (_nid, type, payload, finishedAt) => {
    last = Math.max(last, finishedAt);
    addTraffic(traffic, type, 1, encodeJsonB64(payload).length);
  };
  return { beats, traffic, last: () => last };
}

interface Milestones {
  start: number;
  t0: number;
  [name: string]: number;
}

/**
 * Arms every worker with the watch, runs `act` (which returns its milestones, t0 among them),
 * waits until every open receiver applied the change (bounded), then until nodeward is quiet
 * (not before `quietNotBefore`), and collects what the receivers saw.
 */
async function watch(
  run: Run,
  nw: NodewardProcess,
  baselineCores: number,
  spec: Omit<Watch, "id"> & { id: number; mode: Mode; nid: string },
  act: () => Promise<Milestones>,
  quietNotBefore: (m: Milestones) => number,
  joinerLast: () => number,
): Promise<Omit<WatchResult, "joiner">> {
  const { options } = run;
  const armed = await Promise.all(
    run.workers.map((w) =>
      w.request(
        { kind: "arm", watch: { id: spec.id, kind: spec.kind, key: spec.key, cluster: spec.cluster } },
        "armed",
        10_000,
      ),
    ),
  );
  const receivers = armed.reduce((n, a) => n + a.watched, 0);
  const pressure = cpuPressureMeter();
  const cpuStart = cpuSeconds(nw.pid) ?? 0;
  const wallStart = Date.now();
  const m = await act();
  // every open receiver applied, or the bound passed (polled: the exact times come from the workers)
  let allAppliedAt: number | null = null;
  let cpuAllApplied: number | null = null;
  let open = 0;
  const applyDeadline = m.t0 + options.applyTimeoutSeconds * 1000;
  while (Date.now() < applyDeadline) {
    const statuses = await Promise.all(
      run.workers.map((w) => w.request({ kind: "status" }, "status", 10_000)),
    );
    open = statuses.reduce((n, s) => n + s.open, 0);
    if (statuses.reduce((n, s) => n + s.applied, 0) >= open) {
      allAppliedAt = Date.now();
      cpuAllApplied = (cpuSeconds(nw.pid) ?? 0) - cpuStart;
      break;
    }
    await sleep(100);
  }
  const quiet = await waitQuiet(run, quietNotBefore(m), options.quietMs, 60_000, joinerLast);
  const cpu = (cpuSeconds(nw.pid) ?? 0) - cpuStart;
  const windowSeconds = (quiet.quietAt - wallStart) / 1000;
  const reports: WatchReport[] = (
    await Promise.all(run.workers.map((w) => w.request({ kind: "collect" }, "collected", 30_000)))
  ).map((r) => r.report);
  const all = reports.flatMap((r) => r.receivers);
  const applied = all.filter(
    (r) => r.appliedAt !== null && r.appliedAt - m.t0 <= options.applyTimeoutSeconds * 1000,
  );
  const peerBytes = all.reduce((n, r) => n + r.peerBytes, 0);
  const peerMessages = all.reduce((n, r) => n + r.peerMessages, 0);
  const milestonesMs = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v - m.start]));
  const samples = {
    appliedMs: applied.map((r) => (r.appliedAt as number) - m.t0),
    appliedFromStartMs: applied.map((r) => (r.appliedAt as number) - m.start),
    lastMs: applied.map((r) => (r.lastAt as number) - m.t0),
  };
  return {
    id: spec.id,
    kind: spec.kind,
    mode: spec.mode,
    cluster: spec.cluster,
    nid: spec.nid,
    receivers,
    receiversOpen: all.filter((r) => r.open).length,
    milestonesMs,
    appliedMs: rounded(summarise(samples.appliedMs)),
    appliedFromStartMs: rounded(summarise(samples.appliedFromStartMs)),
    lastMs: rounded(summarise(samples.lastMs)),
    neverApplied: all.length - applied.length,
    allAppliedMs: allAppliedAt === null ? null : allAppliedAt - m.t0,
    peer: {
      bytes: peerBytes,
      messages: peerMessages,
      bytesPerReceiver: all.length ? peerBytes / all.length : 0,
      messagesPerReceiver: all.length ? peerMessages / all.length : 0,
      bytesPerReceiverSpread: rounded(summarise(all.map((r) => r.peerBytes))),
    },
    inCluster: mergeTraffic(reports.map((r) => r.inCluster)),
    elsewhere: mergeTraffic(reports.map((r) => r.elsewhere)),
    nodewardCpu: rounded(
      {
        toAllAppliedSeconds: cpuAllApplied,
        windowSeconds,
        cpuSeconds: cpu,
        netCpuSeconds: cpu - baselineCores * windowSeconds,
      },
      3,
    ),
    workersCpuSeconds: Math.round(reports.reduce((n, r) => n + r.workerCpuSeconds, 0) * 1000) / 1000,
    samples,
    span: { start: wallStart, end: allAppliedAt ?? quiet.quietAt },
    quietTimedOut: quiet.timedOut,
    cpuPressure: pressure(),
  };
}

/** ManualSync through the agent's own syncVpn, noting when nodeward answered. */
function timedManualSync(l2: L2Client): { client: L2Client; answeredAt: () => number } {
  let answeredAt = 0;
  const client: L2Client = {
    ...l2,
    manualSync: async (request, opts) => {
      const answer = await l2.manualSync(request, opts);
      answeredAt = Date.now();
      return answer;
    },
  };
  return { client, answeredAt: () => answeredAt };
}

/** One machine joins `cluster` exactly like a real one (Register, ManualSync, stream), then leaves (DELETE). */
async function joinAndLeave(
  run: Run,
  nw: NodewardProcess,
  l1: L1Client,
  baselineCores: number,
  mode: Mode,
  cluster: string,
  id: number,
): Promise<{ join: WatchResult; leave: WatchResult }> {
  const { options } = run;
  const api = apiClient(nw.api, nw.adminToken());
  const caPem = nw.caPem();
  const endpoint = endpointOf(nw);
  const token = await api.createToken({ aid, cluster, ttlSeconds: 600, uses: 1 });
  const machineId = randomUUID().replaceAll("-", "");
  const hostname = `join-${machineId.slice(-8)}`;
  const { keyPem, csrPem } = await generateNodeKeyAndCsr(hostname);
  const own = joinerLog();

  // Register first: the joiner's nid (and so its WireGuard key) is known only afterwards, and
  // nobody can hear of the key before ManualSync sends it, so the watch is armed in between.
  const registerAt = Date.now();
  const answer = await l1.register(
    { machineId, aid, token, os: "bench", csr: csrPem, hostname },
    { deadlineMs: 30_000 },
  );
  const registeredAt = Date.now();
  const identity: AgentIdentity = { machineId, cluster, nid: answer.nid, certPem: answer.publicKey, keyPem };
  const facts = nodeFacts(identity.nid);
  const joiner = new SimAgent(identity, {
    endpoint,
    caPem,
    heartbeatMs: options.heartbeatMs,
    wireguard: true,
    log: joinerLogger,
    beats: own.beats,
    capabilities: capabilitiesOf[mode],
    onDisconnect: () => {},
  });
  run.joiners.add(joiner);

  const joined = await watch(
    run,
    nw,
    baselineCores,
    { id, kind: "join", key: facts.wgPublicKey, cluster, mode, nid: identity.nid },
    async () => {
      const manualSync = async () => {
        const l2 = createL2Client(endpoint, { caPem, certPem: identity.certPem, keyPem });
        const timed = timedManualSync(l2);
        try {
          await syncVpn(timed.client, benchHost(facts, true), { ip: facts.nodeIp }, log);
        } finally {
          l2.close();
        }
        return timed.answeredAt();
      };
      const stream = async () => {
        await joiner.connect();
        return Date.now();
      };
      if (options.joinOrder === "stream-first") {
        const hello = await stream();
        return { start: registerAt, registered: registeredAt, hello, t0: await manualSync() };
      }
      const t0 = await manualSync();
      if (options.streamDelayMs > 0) await sleep(options.streamDelayMs);
      return { start: registerAt, registered: registeredAt, t0, hello: await stream() };
    },
    // the joiner's first heartbeat (jittered over one interval) may move its address: wait for its push too
    (m) => Math.max(m.hello ?? 0, m.t0) + options.heartbeatMs + 2_000,
    own.last,
  );
  const joinResult: WatchResult = { ...joined, joiner: { ...own.traffic } };

  const left = await watch(
    run,
    nw,
    baselineCores,
    { id, kind: "leave", key: facts.wgPublicKey, cluster, mode, nid: identity.nid },
    async () => {
      const start = Date.now();
      await api.deleteNode(identity.nid);
      return { start, t0: Date.now() };
    },
    () => 0,
    () => 0,
  );
  joiner.stop();
  run.joiners.delete(joiner);
  return { join: joinResult, leave: left };
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

const peerBytesOf = (traffic: Traffic) =>
  Object.entries(traffic)
    .filter(([type]) => peerTypes.has(type))
    .reduce((n, [, t]) => n + t.bytes, 0);

/** One mode's joins (or leaves) together: times pooled over every receiver of every watch. */
function summariseMode(results: readonly WatchResult[], peersInSet: number): ModeSummary {
  const pooled = (pick: (r: WatchResult) => number[]) => rounded(summarise(results.flatMap(pick)));
  const receivers = results.reduce((n, r) => n + r.receivers, 0);
  const bytes = results.reduce((n, r) => n + r.peer.bytes, 0);
  const messages = results.reduce((n, r) => n + r.peer.messages, 0);
  const perReceiver = receivers ? bytes / receivers : 0;
  const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
  return {
    watches: results.length,
    appliedMs: pooled((r) => r.samples.appliedMs),
    appliedFromStartMs: pooled((r) => r.samples.appliedFromStartMs),
    lastMs: pooled((r) => r.samples.lastMs),
    neverApplied: results.reduce((n, r) => n + r.neverApplied, 0),
    receiversPerWatch: round(results.length ? receivers / results.length : 0),
    peerBytesPerWatch: round(mean(results.map((r) => r.peer.bytes)), 0),
    peerBytesPerReceiver: round(perReceiver, 1),
    peerMessagesPerReceiver: round(receivers ? messages / receivers : 0),
    peerBytesPerReceiverPerPeerInSet: round(perReceiver / Math.max(1, peersInSet)),
    joinerOwnBytes: round(mean(results.map((r) => peerBytesOf(r.joiner ?? {}))), 0),
    nodewardCpuSecondsPerWatch: round(mean(results.map((r) => r.nodewardCpu.cpuSeconds)), 3),
    nodewardNetCpuSecondsPerWatch: round(mean(results.map((r) => r.nodewardCpu.netCpuSeconds)), 3),
    nodewardCpuToAllAppliedSeconds: round(
      mean(results.map((r) => r.nodewardCpu.toAllAppliedSeconds ?? r.nodewardCpu.cpuSeconds)),
      3,
    ),
  };
}

async function benchmark(run: Run): Promise<FanoutResult> {
  const { options } = run;
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  const code = describeCode(new URL("../", import.meta.url).pathname);
  run.workers = Array.from({ length: options.workers }, (_, index) => {
    const workerOptions: FanoutWorkerOptions = {
      index,
      heartbeatMs: options.heartbeatMs,
      connectConcurrency: options.connectConcurrency,
      enrolConcurrency: options.enrolConcurrency,
    };
    return new ForkedWorker<ToFanoutWorker, FromFanoutWorker>(
      workerScript,
      index,
      workerOptions,
      join(run.dirs.logs, `fanout-worker-${index}.log`),
      ["progress"],
    );
  });
  await Promise.all(run.workers.map((w) => w.request(undefined, "ready", 60_000)));
  say(`${run.workers.length} workers up (pids ${run.workers.map((w) => w.pid).join(", ")})`);

  let nw = await startMeasuredNodeward(run);
  const { identities, enrolment } = await ensureIdentities(run, nw);
  // the measured process starts clean: no enrolment garbage, no certificates signed
  await nw.stop();
  nw = await startMeasuredNodeward(run);
  const caPem = nw.caPem();

  // every worker gets a mix of both modes and every cluster: both modes face the same simulator
  const agents: FanoutAgent[] = identities.map((identity) => ({ identity, mode: modeOf(identity.cluster) }));
  const parts: FanoutAgent[][] = run.workers.map(() => []);
  for (const [i, agent] of agents.entries()) parts[i % parts.length]?.push(agent);
  await Promise.all(
    run.workers.map((w, i) =>
      w.request(
        { kind: "prepare", endpoint: endpointOf(nw), caPem, agents: parts[i] ?? [] },
        "prepared",
        120_000,
      ),
    ),
  );

  say(
    `connecting ${agents.length} agents (${options.clusters} delta + ${options.clusters} full clusters of ${options.clusterSize}), ${options.connectConcurrency} dials in flight per worker`,
  );
  const connect = await connectAll(run, nw);
  say(
    `${connect.connected}/${agents.length} connected in ${connect.seconds.toFixed(1)} s (retries ${connect.retries}); waiting for nodeward to go quiet`,
  );
  if (connect.connected === 0) throw new Error(`no agent connected: ${connect.errors.join("; ")}`);
  const settle = await waitQuiet(
    run,
    connect.lastHelloAt + options.heartbeatMs + 2_000,
    Math.max(options.quietMs, 5_000),
    options.settleSeconds * 1000,
  );
  const activities = (
    await Promise.all(run.workers.map((w) => w.request({ kind: "activity" }, "activity", 10_000)))
  ).map((a) => a.activity);
  const instructionsUntilQuiet: Record<string, number> = {};
  for (const a of activities)
    for (const [k, v] of Object.entries(a.instructions))
      instructionsUntilQuiet[k] = (instructionsUntilQuiet[k] ?? 0) + v;
  const openAfterSettle = activities.reduce((n, a) => n + a.open, 0);
  say(
    `quiet ${((settle.quietAt - connect.lastHelloAt) / 1000).toFixed(1)} s after the last hello${settle.timedOut ? " (BOUND REACHED, still pushing)" : ""}; ${openAfterSettle} streams open`,
  );

  // nodeward's idle CPU (heartbeats, presence), subtracted from each join's CPU
  const baselineCpu = cpuSeconds(nw.pid) ?? 0;
  const baselineStart = performance.now();
  await sleep(options.baselineSeconds * 1000);
  const baselineSeconds = (performance.now() - baselineStart) / 1000;
  const baselineCores = ((cpuSeconds(nw.pid) ?? 0) - baselineCpu) / baselineSeconds;
  say(`baseline: nodeward ${(baselineCores * 100).toFixed(1)} % of one core without joins`);

  const l1 = createL1Client(endpointOf(nw), caPem);
  const joins: WatchResult[] = [];
  const leaves: WatchResult[] = [];
  const pressure = cpuPressureMeter();
  const joinsStartedAt = Date.now();
  try {
    for (let j = 0; j < options.joins; j++) {
      for (const mode of modes) {
        const cluster = clusterName(mode, j % options.clusters);
        const id = joins.length + 1;
        const { join: joined, leave } = await joinAndLeave(run, nw, l1, baselineCores, mode, cluster, id);
        joins.push(joined);
        leaves.push(leave);
        say(
          `join ${id} ${cluster}: ${joined.receivers - joined.neverApplied}/${joined.receivers} applied, p50 ${joined.appliedMs.p50} p99 ${joined.appliedMs.p99} max ${joined.appliedMs.max} ms after ManualSync; ${Math.round(joined.peer.bytesPerReceiver)} B in ${joined.peer.messagesPerReceiver.toFixed(2)} messages per node; nodeward CPU ${joined.nodewardCpu.toAllAppliedSeconds ?? "?"} s until all applied; leave p99 ${leave.appliedMs.p99} ms`,
        );
      }
    }
  } finally {
    l1.close();
  }
  const cpuPressureJoins = pressure();
  const joinsEndedAt = Date.now();
  const nodewardRssMiBAtEnd = Math.round(((rssKiB(nw.pid) ?? 0) / 1024) * 10) / 10;
  const endActivities = (
    await Promise.all(run.workers.map((w) => w.request({ kind: "activity" }, "activity", 10_000)))
  ).map((a) => a.activity);

  await Promise.all(run.workers.map((w) => w.request({ kind: "quiesce" }, "quiesced", 10_000)));
  await nw.stop(60_000); // a profile is written on a clean exit
  const exitedAt = Date.now();
  const beforeExit = (start: number, end: number): [number, number] => [
    (exitedAt - start) / 1000,
    (exitedAt - end) / 1000,
  ];
  const phasesBeforeExitSeconds: Record<string, [number, number]> = {
    connect: beforeExit(connect.startedAt, connect.lastHelloAt),
    joins: beforeExit(joinsStartedAt, joinsEndedAt),
  };
  for (const w of [...joins, ...leaves]) {
    phasesBeforeExitSeconds[`${w.kind}-${w.id}-${w.mode}`] = beforeExit(w.span.start, w.span.end);
  }
  await Promise.all(run.workers.map((w) => w.stop()));

  const byMode = (results: readonly WatchResult[]) =>
    Object.fromEntries(
      modes.map((mode) => [
        mode,
        // after a join each receiver's set holds clusterSize peers (the others and the joiner)
        summariseMode(
          results.filter((r) => r.mode === mode),
          options.clusterSize,
        ),
      ]),
    ) as Record<Mode, ModeSummary>;
  const joinSummary = byMode(joins);
  const { workDir: _w, fresh: _f, ...shownOptions } = options;
  return {
    startedAt,
    machine,
    code,
    options: shownOptions,
    agents: agents.length,
    enrolment,
    connect: {
      connected: connect.connected,
      failed: connect.failed,
      retries: connect.retries,
      seconds: connect.seconds,
      perAgentMs: connect.perAgentMs,
      errors: connect.errors,
      nodewardCpuSeconds: Math.round(connect.nodewardCpuSeconds * 100) / 100,
      workersCpuSeconds: Math.round(connect.workersCpuSeconds * 100) / 100,
      settleSeconds: Math.round((settle.quietAt - connect.lastHelloAt) / 100) / 10,
      settleTimedOut: settle.timedOut,
      instructionsUntilQuiet,
      openAfterSettle,
      disconnects: endActivities.reduce((n, a) => n + a.disconnects, 0),
      cpuPressure: connect.cpuPressure,
    },
    baseline: {
      seconds: Math.round(baselineSeconds * 10) / 10,
      nodewardCores: Math.round(baselineCores * 1000) / 1000,
      nodewardRssMiB: nodewardRssMiBAtEnd,
    },
    joins,
    leaves,
    summary: {
      join: joinSummary,
      leave: byMode(leaves),
      fullOverDeltaBytes:
        joinSummary.delta.peerBytesPerWatch > 0
          ? Math.round((joinSummary.full.peerBytesPerWatch / joinSummary.delta.peerBytesPerWatch) * 10) / 10
          : 0,
    },
    cpuPressureJoins,
    nodewardRssMiBAtEnd,
    phasesBeforeExitSeconds,
    loadAverage1mAtEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

const f = (v: number, digits = 1) => v.toFixed(digits);
const kB = (bytes: number) => (bytes >= 10_000 ? `${f(bytes / 1000)} kB` : `${Math.round(bytes)} B`);
const times = (s: Summary) =>
  `min ${f(s.min, 0)}  p50 ${f(s.p50, 0)}  p99 ${f(s.p99, 0)}  max ${f(s.max, 0)} ms (n=${s.count})`;

function formatMode(label: string, s: ModeSummary, receivers: number): string[] {
  return [
    `  ${label.padEnd(6)} applied ${times(s.appliedMs)}, never ${s.neverApplied}`,
    `         from Register/DELETE sent ${times(s.appliedFromStartMs)}; last update to the entry ${times(s.lastMs)}`,
    `         peer payload ${kB(s.peerBytesPerWatch)} per ${label === "leave" ? "leave" : "change"} to ${f(s.receiversPerWatch, 0)} nodes = ${kB(s.peerBytesPerReceiver)} per node in ${f(s.peerMessagesPerReceiver, 2)} messages (${f(s.peerBytesPerReceiverPerPeerInSet, 2)} B per peer of a ${receivers}-peer set)`,
    `         nodeward CPU ${f(s.nodewardCpuToAllAppliedSeconds, 3)} s from the start until all applied; ${f(s.nodewardNetCpuSecondsPerWatch, 3)} s over the window until quiet, net of the idle rate (${f(s.nodewardCpuSecondsPerWatch, 3)} s raw)`,
  ];
}

function formatResult(r: FanoutResult): string {
  const o = r.options;
  const enrol =
    r.enrolment === "cached"
      ? "cached identities"
      : `${r.enrolment.enrolled} enrolled (${r.enrolment.failed} failed) in ${f(r.enrolment.seconds)} s`;
  const counts = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ") || "none";
  const elsewhere = [...r.joins, ...r.leaves].reduce(
    (n, w) => n + Object.values(w.elsewhere).reduce((m, t) => m + t.count, 0),
    0,
  );
  const jd = r.summary.join.delta;
  const jf = r.summary.join.full;
  const receivers = Math.round(jd.receiversPerWatch);
  const ownJoiner = Math.max(jd.joinerOwnBytes, jf.joinerOwnBytes);
  return [
    `runos bench:fanout  ${r.startedAt}`,
    `code         ${r.code.head}, ${r.code.changedSrcFiles} uncommitted src files (diff ${r.code.srcDiff})`,
    `machine      ${r.machine.nproc} x ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, load ${r.machine.loadAverage1m} -> ${r.loadAverage1mAtEnd}, CPU pressure ${r.connect.cpuPressure ?? "?"} (connect) / ${r.cpuPressureJoins ?? "?"} (joins)`,
    `setup        ${r.agents} agents in ${o.workers} workers: ${o.clusters} delta + ${o.clusters} full clusters of ${o.clusterSize} nodes with wg0, heartbeat ${o.heartbeatMs} ms; ${enrol}`,
    `connect      ${r.connect.connected}/${r.agents} in ${f(r.connect.seconds)} s (${o.connectConcurrency} dials in flight per worker, retries ${r.connect.retries}), nodeward CPU ${f(r.connect.nodewardCpuSeconds, 2)} s`,
    ...(r.connect.errors.length ? [`             dial errors: ${r.connect.errors.join("; ")}`] : []),
    `             quiet ${f(r.connect.settleSeconds)} s after the last hello${r.connect.settleTimedOut ? " (BOUND REACHED)" : ""}; pushed until then: ${counts(r.connect.instructionsUntilQuiet)}`,
    `baseline     nodeward ${f(r.baseline.nodewardCores * 100)} % of one core without joins; RSS ${f(r.nodewardRssMiBAtEnd)} MiB at the end; disconnects ${r.connect.disconnects}`,
    `join         ${o.joins} per mode, each into a cluster of ${o.clusterSize} (${receivers} other nodes), ${o.joinOrder}${o.joinOrder === "sync-first" && o.streamDelayMs ? ` with the stream ${o.streamDelayMs} ms after ManualSync` : ""}; times from ManualSync answered (nodeward knows the key)`,
    ...formatMode("delta", jd, receivers),
    ...formatMode("full", jf, receivers),
    `             full / delta bytes per join: ${f(r.summary.fullOverDeltaBytes)}x; the joiner's own full set: ${kB(ownJoiner)}`,
    `leave        (the joiner deleted through the API; times from DELETE answered)`,
    ...formatMode("delta", r.summary.leave.delta, receivers),
    ...formatMode("full", r.summary.leave.full, receivers),
    `each join    (applied after ManualSync, ms; peer payload per node; nodeward CPU until all applied)`,
    ...r.joins.map(
      (w) =>
        `  ${String(w.id).padStart(3)} ${w.cluster.padEnd(9)} min ${f(w.appliedMs.min, 0).padStart(5)}  p50 ${f(w.appliedMs.p50, 0).padStart(5)}  p99 ${f(w.appliedMs.p99, 0).padStart(5)}  max ${f(w.appliedMs.max, 0).padStart(5)}  never ${w.neverApplied}  ${kB(w.peer.bytesPerReceiver).padStart(8)} in ${f(w.peer.messagesPerReceiver, 2)} msgs  CPU ${w.nodewardCpu.toAllAppliedSeconds === null ? "?" : f(w.nodewardCpu.toAllAppliedSeconds, 2)} s  PSI ${w.cpuPressure ?? "?"}`,
    ),
    `sanity       messages to other clusters during the watches: ${elsewhere}`,
    `target       join p99 < 2 s with deltas: ${jd.appliedMs.count && jd.appliedMs.p99 < 2_000 && jd.neverApplied === 0 ? "met" : "NOT met"} (p99 ${f(jd.appliedMs.p99)} ms, never applied ${jd.neverApplied}) at ${o.clusterSize} nodes per cluster${o.clusterSize + 1 <= overlayHostsPerCluster ? ` (nodeward's largest cluster is ${overlayHostsPerCluster} nodes: one /24)` : ""}`,
  ].join("\n");
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === "help") {
    process.stdout.write(usage);
    return 0;
  }
  const options = parsed;
  const agents = 2 * options.clusters * options.clusterSize;
  requireOpenFiles(agents, openFilesLimit());
  if (options.clusterSize + 1 > overlayHostsPerCluster) {
    say(
      `warning: a cluster of ${options.clusterSize} plus a joiner exceeds the ${overlayHostsPerCluster} addresses nodeward gives a cluster today; expect enrolment to fail`,
    );
  }
  if (options.fresh) rmSync(options.workDir, { recursive: true, force: true });
  const dirs = benchDirs(options.workDir);
  const cache = new IdentityCache(join(options.workDir, "identities.json"), dirs.data, {
    clusterSize: options.clusterSize,
    wireguard: true,
  });
  const run: Run = { options, dirs, cache, nodeward: undefined, workers: [], joiners: new Set() };

  const endDeadline = guardRun(() => killAll(run), options.maxMinutes, say);

  const result = await benchmark(run);
  reportResult(dirs, `fanout-${options.clusters}x${options.clusterSize}`, result, formatResult(result));
  endDeadline();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`failed: ${errorMessage(err)}`);
    process.exit(1);
  },
);
