/**
 * bench:agents — nodeward with N simulated agents speaking the real protocol.
 *
 * nodeward runs as its own process (`bin/nodeward.js serve`) so /proc shows its RSS and CPU alone;
 * the agents run in a few forked workers (bench/sim-worker.ts). Phases: enrol what the identity
 * cache lacks (through L1Sec Register), restart nodeward, measure its idle RSS, connect every
 * agent at once, wait one heartbeat interval, measure a steady window, send GET_NODE_STATUS
 * through the HTTP API, optionally (--storm) kill -9 nodeward and time the reconnect storm after
 * its restart, stop everything. Not part of the test suite. See docs/benchmarks.md.
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../src/common/errors.js";
import { apiClient } from "./lib/api.js";
import { type HeapSummary, heapGrowth, summariseSnapshot } from "./lib/heap-snapshot.js";
import { IdentityCache } from "./lib/identity-cache.js";
import type { AgentIdentity, ConnectReport, StormReport, WindowReport } from "./lib/ipc.js";
import { describeCode, describeMachine } from "./lib/machine.js";
import { firstAccept, type NodewardProcess, type Ports, startNodeward } from "./lib/nodeward-process.js";
import { type BenchOptions, parseOptions, usage } from "./lib/options.js";
import {
  cpuPressureMeter,
  cpuSeconds,
  openFilesLimit,
  type ProcSeries,
  procFigures,
  rssKiB,
  sampleProcess,
  sampleRss,
  tcpCounters,
} from "./lib/proc-stats.js";
import { type BenchResult, formatResult, type StormFigures } from "./lib/report.js";
import { benchDirs, chunks, endpointOf, guardRun, reportResult, requireOpenFiles } from "./lib/run.js";
import { rounded, summarise } from "./lib/stats.js";
import { WorkerHandle } from "./lib/workers.js";

const aid = "bench";

/** A phase in wall-clock milliseconds (Date.now(), comparable across the processes). */
interface Span {
  start: number;
  end: number;
}
const MiB = 1024;

interface Run {
  options: BenchOptions;
  dirs: { data: string; logs: string; results: string; profiles: string };
  cache: IdentityCache;
  nodeward: NodewardProcess | undefined;
  workers: WorkerHandle[];
}

function say(text: string): void {
  process.stderr.write(`[bench] ${text}\n`);
}

function killAll(run: Run): void {
  for (const worker of run.workers) worker.kill();
  run.nodeward?.kill();
}

/** Adds up per-type counters from several workers. */
function mergeCounts(counts: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const count of counts) for (const [k, v] of Object.entries(count)) total[k] = (total[k] ?? 0) + v;
  return total;
}

async function startMeasuredNodeward(
  run: Run,
  restart?: { ports: Ports; onSpawn(nw: NodewardProcess): void },
): Promise<NodewardProcess> {
  run.nodeward = await startNodeward({
    dataDir: run.dirs.data,
    logFile: join(run.dirs.logs, "nodeward.log"),
    logLevel: run.options.logLevel,
    diagnosticDir: run.dirs.profiles,
    cpuProf: run.options.cpuProf,
    heapSnapshots: run.options.heapSnapshots,
    admitPerSecond: run.options.admitPerSecond,
    ports: restart?.ports,
    onSpawn: (nw) => {
      run.nodeward = nw; // killed with us even if it never gets healthy
      restart?.onSpawn(nw);
    },
  });
  say(
    `nodeward pid ${run.nodeward.pid} on L1 ${run.nodeward.ports.l1}, L2 ${run.nodeward.ports.l2}, API ${run.nodeward.api}`,
  );
  return run.nodeward;
}

/** Enrols what the cache lacks; returns identities for every agent and how the enrolment went. */
async function ensureIdentities(
  run: Run,
  nw: NodewardProcess,
): Promise<{
  identities: AgentIdentity[];
  enrolment: BenchResult["enrolment"];
}> {
  const caPem = nw.caPem();
  const { clusterSize } = run.options;
  const cached = run.cache.identities(caPem);
  const missing = run.options.agents - cached.length;
  if (missing <= 0) {
    say(`using ${run.options.agents} of ${cached.length} cached identities`);
    return { identities: cached.slice(0, run.options.agents), enrolment: "cached" };
  }
  say(`enrolling ${missing} machines (${cached.length} cached) through L1Sec Register`);
  // agent i joins cluster c<i / clusterSize>; one multi-use token per cluster
  const clusterOf = (i: number) => `c${String(Math.floor(i / clusterSize)).padStart(3, "0")}`;
  const wanted = Array.from({ length: missing }, (_, k) => clusterOf(cached.length + k));
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
  const timeoutMs = 60_000 + missing * 100;
  const replies = await Promise.all(
    chunks(machines, run.workers.length).map((part, i) =>
      (run.workers[i] as WorkerHandle).request(
        { kind: "enrol", endpoint: endpointOf(nw), caPem, aid, machines: part },
        "enrolled",
        timeoutMs,
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const fresh = replies.flatMap((r) => r.identities);
  const failed = replies.reduce((n, r) => n + r.failures, 0);
  for (const error of replies.flatMap((r) => r.errors).slice(0, 5)) say(`enrolment error: ${error}`);
  const all = [...cached, ...fresh];
  run.cache.save(caPem, all);
  say(
    `enrolled ${fresh.length} in ${seconds.toFixed(1)} s (${(fresh.length / seconds).toFixed(0)}/s), ${failed} failed`,
  );
  if (all.length < run.options.agents)
    throw new Error(`only ${all.length} identities for ${run.options.agents} agents`);
  return {
    identities: all.slice(0, run.options.agents),
    enrolment: { enrolled: fresh.length, failed, seconds, perSecond: fresh.length / seconds },
  };
}

async function snapshot(nw: NodewardProcess): Promise<HeapSummary> {
  const started = performance.now();
  const file = await nw.heapSnapshot();
  const summary = summariseSnapshot(file);
  say(
    `heap snapshot ${file}: ${(summary.totalBytes / MiB / 1024).toFixed(1)} MiB live, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return summary;
}

function heapFigures(
  before: HeapSummary,
  after: HeapSummary,
  sessions: number,
): NonNullable<BenchResult["heap"]> {
  return {
    beforeMiB: before.totalBytes / MiB / 1024,
    afterMiB: after.totalBytes / MiB / 1024,
    perSessionKiB: sessions ? (after.totalBytes - before.totalBytes) / 1024 / sessions : 0,
    topGrowthPerSession: heapGrowth(before, after, 15).map((g) => ({
      group: g.group,
      bytes: sessions ? Math.round(g.bytes / sessions) : 0,
      count: sessions ? Math.round((g.count / sessions) * 10) / 10 : 0,
    })),
  };
}

async function meanRssKiB(pid: number, samples: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < samples; i++) {
    sum += rssKiB(pid) ?? 0;
    if (i < samples - 1) await sleep(1_000);
  }
  return sum / samples;
}

async function connectAll(run: Run, nw: NodewardProcess) {
  const progress = new Map<number, number>();
  const ticker = setInterval(() => {
    const done = [...progress.values()].reduce((a, b) => a + b, 0);
    say(
      `  connected ${done}/${run.options.agents}, nodeward RSS ${((rssKiB(nw.pid) ?? 0) / MiB).toFixed(0)} MiB`,
    );
  }, 5_000);
  for (const worker of run.workers) worker.onProgress = (n) => progress.set(worker.options.index, n);
  const cpuBefore = cpuSeconds(nw.pid) ?? 0;
  const pressure = cpuPressureMeter();
  const tcpBefore = tcpCounters();
  const started = Date.now();
  try {
    const reports: ConnectReport[] = (
      await Promise.all(
        run.workers.map((w) => w.request({ kind: "connect", timeoutMs: 240_000 }, "connected", 300_000)),
      )
    ).map((r) => r.report);
    const lastHelloAt = Math.max(...reports.map((r) => r.lastHelloAt));
    const connected = reports.reduce((n, r) => n + r.connected, 0);
    const cpu = (cpuSeconds(nw.pid) ?? 0) - cpuBefore;
    const span: Span = { start: started, end: lastHelloAt };
    const tcpAfter = tcpCounters();
    return {
      span,
      cpuPressure: pressure(),
      tcp: {
        listenOverflows: tcpAfter.listenOverflows - tcpBefore.listenOverflows,
        synRetransmits: tcpAfter.synRetransmits - tcpBefore.synRetransmits,
      },
      agents: reports.reduce((n, r) => n + r.agents, 0),
      connected,
      failed: reports.reduce((n, r) => n + r.failed, 0),
      retries: reports.reduce((n, r) => n + r.retries, 0),
      refusedWithHint: reports.reduce((n, r) => n + r.refusedWithHint, 0),
      allConnectedSeconds: (lastHelloAt - started) / 1000,
      perAgentMs: rounded(summarise(reports.flatMap((r) => r.connectMs))),
      helloRttMs: rounded(summarise(reports.flatMap((r) => r.helloRttMs))),
      nodewardCpuSeconds: cpu,
      nodewardCpuMsPerConnect: connected ? (cpu * 1000) / connected : 0,
      workersCpuSeconds: reports.reduce((n, r) => n + r.workerCpuSeconds, 0),
      workersEventLoopDelayP99Ms: reports.map((r) => Math.round(r.eventLoopDelayMs.p99)),
      errors: reports.flatMap((r) => r.errors).slice(0, 10),
      instructionsReceived: mergeCounts(reports.map((r) => r.instructions)),
    };
  } finally {
    clearInterval(ticker);
  }
}

async function steadyWindow(run: Run, nw: NodewardProcess) {
  const api = apiClient(nw.api, nw.adminToken());
  await api.status(); // restarts nodeward's event-loop delay histogram: the next read covers the window
  const rss = sampleRss(nw.pid, 1_000);
  const started = await Promise.all(
    run.workers.map((w) => w.request({ kind: "window-start" }, "window-started", 10_000)),
  );
  const cpuBefore = cpuSeconds(nw.pid) ?? 0;
  const pressure = cpuPressureMeter();
  const windowStart = performance.now();
  const wallStart = Date.now();
  await sleep(run.options.steadySeconds * 1_000);
  const cpu = (cpuSeconds(nw.pid) ?? 0) - cpuBefore;
  const seconds = (performance.now() - windowStart) / 1000;
  const windowPressure = pressure();
  const reports: WindowReport[] = (
    await Promise.all(run.workers.map((w) => w.request({ kind: "window-end" }, "window-report", 30_000)))
  ).map((r) => r.report);
  const memory = rss.stop();
  const nodewardLoop = (await api.status()).eventLoopDelayMs;
  const rtt = reports.flatMap((r) => r.rttMs);
  const sum = (pick: (r: WindowReport) => number) => reports.reduce((n, r) => n + pick(r), 0);
  return {
    memory,
    cpuPressure: windowPressure,
    span: { start: wallStart, end: wallStart + seconds * 1000 } satisfies Span,
    instructionsConnectAndWarmup: mergeCounts(started.map((s) => s.instructionsSinceConnect)),
    heartbeats: {
      windowSeconds: Math.round(seconds * 10) / 10,
      rttMs: rounded(summarise(rtt)),
      sent: sum((r) => r.sent),
      failed: sum((r) => r.failed),
      skipped: sum((r) => r.skipped),
      perSecond: rtt.length / seconds,
      agentsWithBeat: sum((r) => r.agentsWithBeat),
      disconnects: sum((r) => r.disconnects),
      openSessionsAtEnd: sum((r) => r.openSessions),
      instructionsReceived: mergeCounts(reports.map((r) => r.instructions)),
    },
    nodewardCpu: {
      windowSeconds: seconds,
      cpuSeconds: cpu,
      cores: cpu / seconds,
      microsPerHeartbeat: rtt.length ? (cpu * 1e6) / rtt.length : 0,
      eventLoopDelayMs: nodewardLoop,
    },
    workers: {
      count: reports.length,
      cpuCores: sum((r) => r.workerCpuSeconds) / seconds,
      rssMiB: reports.map((r) => r.workerRssKiB / MiB),
      eventLoopDelayP99Ms: reports.map((r) => r.eventLoopDelayMs.p99),
    },
  };
}

/** GET_NODE_STATUS to a sample of nodes, one after another, through POST /api/nodes/:nid/instructions. */
async function sampleInstructions(nw: NodewardProcess, identities: AgentIdentity[], count: number) {
  const api = apiClient(nw.api, nw.adminToken());
  const rtt: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < count; i++) {
    const nid = (identities[Math.floor(Math.random() * identities.length)] as AgentIdentity).nid;
    const started = performance.now();
    try {
      const answer = await api.instruction(nid, "GET_NODE_STATUS", {}, 30);
      if (answer.type !== "NODE_STATUS")
        throw new Error(`answered ${answer.type}: ${JSON.stringify(answer)}`);
      rtt.push(performance.now() - started);
    } catch (err) {
      if (errors.length < 5) errors.push(errorMessage(err));
    }
  }
  return { sent: count, ok: rtt.length, errors, rttMs: rounded(summarise(rtt)) };
}

const secondsSummary = (ms: number[]) => rounded(summarise(ms.map((v) => v / 1000)), 3);

/**
 * The reconnect storm: with every agent connected, kill -9 nodeward, start it again on the same
 * ports and data dir, and poll the workers every second until every agent had a hello answered
 * by the new process (or the storm timeout, counted from the kill, ran out).
 */
async function reconnectStorm(
  run: Run,
  old: NodewardProcess,
): Promise<{ nw: NodewardProcess; storm: StormFigures }> {
  const { options } = run;
  const armed = await Promise.all(
    run.workers.map((w) => w.request({ kind: "storm-arm" }, "storm-armed", 10_000)),
  );
  const onlineBefore = armed.reduce((n, a) => n + a.online, 0);
  say(`storm: ${onlineBefore}/${options.agents} online; kill -9 nodeward pid ${old.pid}`);
  const tcpBefore = tcpCounters();
  const pressure = cpuPressureMeter();
  const killedAt = Date.now();
  old.kill();
  await old.exited;
  const goneAt = Date.now();
  const deadline = killedAt + options.stormTimeoutSeconds * 1_000;
  // agents can connect once L2 accepts; /healthz (the API) comes a little later
  const l2Accepting = firstAccept(old.ports.l2, deadline);
  let sampler: ProcSeries | undefined;
  let spawnedAt = 0;
  let healthyAt = 0;
  let restartError: unknown;
  const restarted = startMeasuredNodeward(run, {
    ports: old.ports,
    onSpawn: (nw) => {
      spawnedAt = Date.now();
      sampler = sampleProcess(nw.pid, 250);
    },
  }).then(
    (nw) => {
      healthyAt = Date.now();
      say(
        `storm: nodeward pid ${nw.pid} answers /healthz ${((healthyAt - killedAt) / 1000).toFixed(2)} s after the kill`,
      );
      return nw;
    },
    (err: unknown) => {
      restartError = err;
      return undefined;
    },
  );

  const curve: StormFigures["curve"] = [];
  let previous = { at: killedAt, cpuSeconds: 0 };
  let lastSaid = killedAt;
  for (;;) {
    const polledAt = Date.now();
    const online = (
      await Promise.all(run.workers.map((w) => w.request({ kind: "storm-status" }, "storm-status", 15_000)))
    ).reduce((n, r) => n + r.online, 0);
    const now = sampler?.last() ?? { at: Date.now(), cpuSeconds: 0, rssKiB: 0 };
    const cores =
      now.at > previous.at ? (now.cpuSeconds - previous.cpuSeconds) / ((now.at - previous.at) / 1000) : 0;
    previous = now;
    const s = Math.round((polledAt - killedAt) / 100) / 10;
    curve.push({ s, online, cores: Math.round(cores * 100) / 100, rssMiB: Math.round(now.rssKiB / MiB) });
    if (restartError) throw restartError;
    if (healthyAt && online >= options.agents) break;
    if (Date.now() >= deadline) break;
    if (Date.now() - lastSaid >= 5_000) {
      lastSaid = Date.now();
      say(
        `  storm t+${s.toFixed(0)} s: ${online}/${options.agents} back, nodeward ${cores.toFixed(2)} cores, RSS ${(now.rssKiB / MiB).toFixed(0)} MiB`,
      );
    }
    await sleep(Math.max(0, polledAt + 1_000 - Date.now()));
  }
  const endedAt = Date.now();
  const nw = await restarted;
  if (!nw) throw restartError;
  l2Accepting.stop();
  const l2At = (await l2Accepting.at) ?? healthyAt;
  const samples = sampler?.stop() ?? [];
  const tcpAfter = tcpCounters();
  const reports: StormReport[] = (
    await Promise.all(run.workers.map((w) => w.request({ kind: "storm-end" }, "storm-report", 60_000)))
  ).map((r) => r.report);
  const sum = (pick: (r: StormReport) => number) => reports.reduce((n, r) => n + pick(r), 0);
  const online = sum((r) => r.online);
  const allBack = online >= options.agents;
  const lastBackAt = Math.max(...reports.map((r) => r.lastBackAt));
  const allOnlineAt = allBack ? Math.max(lastBackAt, l2At) : endedAt;
  const startup = procFigures(samples, spawnedAt, l2At);
  const reconnecting = procFigures(samples, l2At, allOnlineAt);
  const overall = procFigures(samples, spawnedAt, endedAt);
  const secondsFrom = (from: number) => (allBack ? Math.round((lastBackAt - from) / 10) / 100 : null);
  const back = sum((r) => r.back);
  const hints = reports.flatMap((r) => r.retryHintsMs);
  return {
    nw,
    storm: {
      agents: options.agents,
      onlineBefore,
      killedPid: old.pid,
      restartedPid: nw.pid,
      exitSeconds: (goneAt - killedAt) / 1000,
      listeningAfterKillSeconds: (l2At - killedAt) / 1000,
      healthyAfterKillSeconds: (healthyAt - killedAt) / 1000,
      allOnlineAfterKillSeconds: secondsFrom(killedAt),
      allOnlineAfterListeningSeconds: secondsFrom(l2At),
      timedOut: !allBack,
      online,
      back,
      notBack: options.agents - online,
      droppedAgain: sum((r) => r.droppedAgain),
      gaveUp: sum((r) => r.agentsGaveUp),
      terminalRefusals: sum((r) => r.terminalRefusals),
      offlinePerAgentSeconds: secondsSummary(reports.flatMap((r) => r.offlineMs)),
      offlineSplitSeconds: {
        beforeDial: secondsSummary(reports.flatMap((r) => r.offlineSplitMs.beforeDial)),
        dialToReady: secondsSummary(reports.flatMap((r) => r.offlineSplitMs.dialToReady)),
        readyToHello: secondsSummary(reports.flatMap((r) => r.offlineSplitMs.readyToHello)),
      },
      redials: sum((r) => r.redials),
      maxRedialsPerAgent: Math.max(...reports.map((r) => r.maxRedialsPerAgent)),
      dialFailures: sum((r) => r.dialFailures),
      refusedWithHint: sum((r) => r.refusedWithHint),
      retryHintsMs: rounded(summarise(hints), 0),
      nodeward: rounded({
        startupSeconds: (l2At - spawnedAt) / 1000,
        startupCpuSeconds: startup.cpuSeconds,
        cpuSeconds: reconnecting.cpuSeconds,
        meanCores: reconnecting.meanCores,
        peakCores1s: reconnecting.peakCores,
        cpuMsPerReconnect: back ? (reconnecting.cpuSeconds * 1000) / back : 0,
        peakRssMiB: overall.peakRssKiB / MiB,
        rssAtEndMiB: (samples[samples.length - 1]?.rssKiB ?? 0) / MiB,
      }),
      workers: {
        cpuSeconds: Math.round(sum((r) => r.workerCpuSeconds) * 100) / 100,
        eventLoopDelayP99Ms: reports.map((r) => Math.round(r.eventLoopDelayMs.p99)),
      },
      tcp: {
        listenOverflows: tcpAfter.listenOverflows - tcpBefore.listenOverflows,
        synRetransmits: tcpAfter.synRetransmits - tcpBefore.synRetransmits,
      },
      cpuPressure: pressure(),
      instructionsReceived: mergeCounts(reports.map((r) => r.instructions)),
      errors: [...new Set(reports.flatMap((r) => r.errors))].slice(0, 10),
      span: { start: killedAt, end: allOnlineAt },
      curve,
    },
  };
}

async function benchmark(run: Run): Promise<BenchResult> {
  const { options } = run;
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  const code = describeCode(new URL("../", import.meta.url).pathname);
  run.workers = Array.from(
    { length: options.workers },
    (_, index) =>
      new WorkerHandle(
        {
          index,
          heartbeatMs: options.heartbeatMs,
          connectConcurrency: options.connectConcurrency,
          dialConcurrency: options.dialConcurrency,
          enrolConcurrency: options.enrolConcurrency,
          wireguard: options.wireguard,
        },
        run.dirs.logs,
      ),
  );
  await Promise.all(run.workers.map((w) => w.request(undefined, "ready", 60_000)));
  say(`${run.workers.length} workers up (pids ${run.workers.map((w) => w.pid).join(", ")})`);

  let nw = await startMeasuredNodeward(run);
  const { identities, enrolment } = await ensureIdentities(run, nw);
  if (enrolment !== "cached") {
    // the measured process must not carry the enrolment's garbage: every run starts from the same state
    await nw.stop();
    nw = await startMeasuredNodeward(run);
  }
  const caPem = nw.caPem();
  const parts = chunks(identities, run.workers.length);
  await Promise.all(
    run.workers.map((w, i) =>
      w.request(
        { kind: "prepare", endpoint: endpointOf(nw), caPem, identities: parts[i] ?? [] },
        "prepared",
        60_000,
      ),
    ),
  );

  await sleep(2_000);
  const baselineKiB = await meanRssKiB(nw.pid, 3);
  say(`nodeward idle RSS ${(baselineKiB / MiB).toFixed(1)} MiB`);
  const heapBefore = options.heapSnapshots ? await snapshot(nw) : undefined;
  say(`connecting ${options.agents} agents`);
  const connect = await connectAll(run, nw);
  const afterConnectKiB = rssKiB(nw.pid) ?? 0;
  const { span: _span, cpuPressure: connectPressure, ...connectFigures } = connect;
  say(
    `${connect.connected}/${connect.agents} connected in ${connect.allConnectedSeconds.toFixed(2)} s; RSS ${(afterConnectKiB / MiB).toFixed(1)} MiB`,
  );
  if (connect.connected === 0) throw new Error(`no agent connected: ${connect.errors.join("; ")}`);

  const warmupMs = options.warmupSeconds * 1_000;
  say(`warm-up ${warmupMs / 1000} s, then a ${options.steadySeconds} s steady window`);
  await sleep(warmupMs);
  const steady = await steadyWindow(run, nw);
  say(`window done: ${steady.heartbeats.rttMs.count} heartbeats, p99 ${steady.heartbeats.rttMs.p99} ms`);

  const instructions = await sampleInstructions(nw, identities, options.instructions);
  const endKiB = rssKiB(nw.pid) ?? 0;
  const heap = heapBefore ? heapFigures(heapBefore, await snapshot(nw), connect.connected) : undefined;
  let storm: StormFigures | undefined;
  if (options.storm) {
    ({ nw, storm } = await reconnectStorm(run, nw));
    say(
      storm.timedOut
        ? `storm: only ${storm.online}/${storm.agents} back after ${options.stormTimeoutSeconds} s; ${storm.gaveUp} gave up`
        : `storm: all ${storm.agents} back ${storm.allOnlineAfterKillSeconds} s after the kill (${storm.allOnlineAfterListeningSeconds} s after listening); ${storm.gaveUp} gave up`,
    );
  }
  await Promise.all(run.workers.map((w) => w.request({ kind: "quiesce" }, "quiesced", 10_000)));
  const shutdownMs = await nw.stop();
  const exitedAt = Date.now();
  const beforeExit = (span: Span): [number, number] => [
    (exitedAt - span.start) / 1000,
    (exitedAt - span.end) / 1000,
  ];
  await Promise.all(run.workers.map((w) => w.stop()));

  const { workDir: _w, fresh: _f, ...shownOptions } = options;
  return {
    startedAt,
    machine,
    code,
    options: shownOptions,
    clusters: new Set(identities.map((i) => i.cluster)).size,
    cpuPressure: {
      connect: connectPressure,
      steady: steady.cpuPressure,
      ...(storm ? { storm: storm.cpuPressure } : {}),
    },
    enrolment,
    connect: { ...connectFigures, instructionsReceivedWithWarmup: steady.instructionsConnectAndWarmup },
    memory: rounded({
      baselineMiB: baselineKiB / MiB,
      afterConnectMiB: afterConnectKiB / MiB,
      steadyMeanMiB: steady.memory.meanKiB / MiB,
      steadyMaxMiB: steady.memory.maxKiB / MiB,
      endMiB: endKiB / MiB,
      perSessionKiB: connect.connected ? (steady.memory.meanKiB - baselineKiB) / connect.connected : 0,
    }),
    heartbeats: steady.heartbeats,
    nodewardCpu: rounded(steady.nodewardCpu, 4),
    workers: steady.workers,
    instructions,
    ...(heap ? { heap } : {}),
    ...(storm ? { storm } : {}),
    shutdownSeconds: shutdownMs / 1000,
    nodewardPid: nw.pid,
    // after a storm the exiting process (the one --cpu-prof profiled) is the restarted one
    phasesBeforeExitSeconds: storm
      ? { storm: beforeExit(storm.span) }
      : { connect: beforeExit(connect.span), steady: beforeExit(steady.span) },
    loadAverage1mAtEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === "help") {
    process.stdout.write(usage);
    return 0;
  }
  const options = parsed;
  requireOpenFiles(options.agents, openFilesLimit());
  if (options.fresh) rmSync(options.workDir, { recursive: true, force: true });
  const dirs = benchDirs(options.workDir);
  const cache = new IdentityCache(join(options.workDir, "identities.json"), dirs.data, options);
  const run: Run = { options, dirs, cache, nodeward: undefined, workers: [] };

  const endDeadline = guardRun(() => killAll(run), options.maxMinutes, say);

  const result = await benchmark(run);
  reportResult(dirs, `agents-${options.agents}`, result, formatResult(result));
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
