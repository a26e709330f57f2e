import type { CodeState, Machine } from "./machine.js";
import type { BenchOptions } from "./options.js";
import type { Summary } from "./stats.js";

/** The reconnect storm (--storm): nodeward killed with every agent connected, then started again. */
export interface StormFigures {
  agents: number;
  /** Agents online (stream open, hello answered) just before the kill. */
  onlineBefore: number;
  killedPid: number;
  restartedPid: number;
  /** From kill -9 until the process was gone. */
  exitSeconds: number;
  /** From the kill until the new process's L2 port accepted a TCP connection (probed every 50 ms). */
  listeningAfterKillSeconds: number;
  /** From the kill until the new process answered /healthz (the API listens after L1 and L2). */
  healthyAfterKillSeconds: number;
  /** From the kill / from L2 listening until the last agent's hello was answered; null if not all came back. */
  allOnlineAfterKillSeconds: number | null;
  allOnlineAfterListeningSeconds: number | null;
  /** Not every agent was back before --storm-timeout-s. */
  timedOut: boolean;
  /** Agents with a hello answered by the new process and their stream open at the end. */
  online: number;
  /** Agents that had a hello answered by the new process (open at the end or not). */
  back: number;
  /** agents - online: did not come back by the deadline. */
  notBack: number;
  /** Agents that were back and lost their stream again during the storm. */
  droppedAgain: number;
  /** Agents refused with UNAUTHENTICATED or PERMISSION_DENIED: waiting cannot fix it. Must be 0. */
  gaveUp: number;
  terminalRefusals: number;
  /** Per agent, from its stream dropping to the new process answering its hello (seconds). */
  offlinePerAgentSeconds: Summary;
  /**
   * Where that time went, per agent, by the dial that brought it back: waiting before that dial
   * (policy delays, earlier failed dials), the dial until the channel was ready (TCP + TLS,
   * including grpc-js's own reconnect backoff while nothing listened), ready until the hello answer.
   */
  offlineSplitSeconds: { beforeDial: Summary; dialToReady: Summary; readyToHello: Summary };
  /** Dials after the first, over all agents, by the real agent's reconnect policy. */
  redials: number;
  maxRedialsPerAgent: number;
  /** Dials or stream set-ups that ended before a hello answer (refusals included). */
  dialFailures: number;
  /** Admission control's refusals (RESOURCE_EXHAUSTED + runos-retry-after-ms), and their hints. */
  refusedWithHint: number;
  retryHintsMs: Summary;
  nodeward: {
    /** From spawn until L2 listened, and the CPU that took (loading, migrations, TLS set-up). */
    startupSeconds: number;
    startupCpuSeconds: number;
    /** From L2 listening until all were back (or the deadline); meanCores and peakCores1s too. */
    cpuSeconds: number;
    meanCores: number;
    /** The highest CPU use over any 1 s window (sampled every 250 ms). */
    peakCores1s: number;
    cpuMsPerReconnect: number;
    /** Peak RSS of the new process, start-up included. */
    peakRssMiB: number;
    rssAtEndMiB: number;
  };
  workers: { cpuSeconds: number; eventLoopDelayP99Ms: number[] };
  /** Kernel counters over the storm (whole network namespace). */
  tcp: { listenOverflows: number; synRetransmits: number };
  cpuPressure: number | null;
  /** What the new nodeward pushed to the agents during the storm, by type. */
  instructionsReceived: Record<string, number>;
  errors: string[];
  /** Wall clock (Date.now()) of the kill and of the last agent back (or the deadline). */
  span: { start: number; end: number };
  /** Once a second: seconds since the kill, agents back, nodeward's cores since the last point, RSS. */
  curve: { s: number; online: number; cores: number; rssMiB: number }[];
}

export interface BenchResult {
  startedAt: string;
  machine: Machine;
  code: CodeState;
  options: Omit<BenchOptions, "workDir" | "fresh">;
  /**
   * Linux PSI: share of each phase during which some task on the machine waited for a CPU
   * (0 = an idle box, near 1 = contended all the time). The noise gauge for these figures.
   */
  cpuPressure: { connect: number | null; steady: number | null; storm?: number | null };
  /** Distinct clusters the agents belong to (the overlay pushes per cluster). */
  clusters: number;
  enrolment: { enrolled: number; failed: number; seconds: number; perSecond: number } | "cached";
  connect: {
    agents: number;
    connected: number;
    failed: number;
    /** Redials by the real agent's reconnect policy (after failed dials, refusals, dropped streams). */
    retries: number;
    /** Admission control's refusals with a retry hint. */
    refusedWithHint: number;
    /** From the start of the connect phase until the last hello was answered. */
    allConnectedSeconds: number;
    perAgentMs: Summary;
    helloRttMs: Summary;
    nodewardCpuSeconds: number;
    nodewardCpuMsPerConnect: number;
    /** The simulated side's CPU meanwhile: when it nears the cores left, the agents are the limit. */
    workersCpuSeconds: number;
    workersEventLoopDelayP99Ms: number[];
    /** Kernel counters over the phase (whole network namespace): full accept queue, SYN resends. */
    tcp: { listenOverflows: number; synRetransmits: number };
    errors: string[];
    /** What nodeward pushed to the agents while they connected (e.g. SET_VPN_PEERS), by type. */
    instructionsReceived: Record<string, number>;
    /** The same, counted until the steady window started (debounced pushes land after the hellos). */
    instructionsReceivedWithWarmup: Record<string, number>;
  };
  memory: {
    baselineMiB: number;
    afterConnectMiB: number;
    steadyMeanMiB: number;
    steadyMaxMiB: number;
    endMiB: number;
    /** (steady mean - baseline) / connected sessions. */
    perSessionKiB: number;
  };
  heartbeats: {
    windowSeconds: number;
    rttMs: Summary;
    sent: number;
    failed: number;
    skipped: number;
    perSecond: number;
    agentsWithBeat: number;
    disconnects: number;
    openSessionsAtEnd: number;
    instructionsReceived: Record<string, number>;
  };
  nodewardCpu: {
    windowSeconds: number;
    cpuSeconds: number;
    cores: number;
    microsPerHeartbeat: number;
    /** nodeward's own event-loop delay over the window (GET /api/status). */
    eventLoopDelayMs?: { p50: number; p99: number; max: number };
  };
  workers: { count: number; cpuCores: number; rssMiB: number[]; eventLoopDelayP99Ms: number[] };
  instructions: { sent: number; ok: number; errors: string[]; rttMs: Summary };
  /** With --heap-snapshots: live V8 heap (after a full GC) before connecting and at the end. */
  heap?: {
    beforeMiB: number;
    afterMiB: number;
    perSessionKiB: number;
    /** Largest growths, per session: bytes and objects per session by constructor / node type. */
    topGrowthPerSession: { group: string; bytes: number; count: number }[];
  };
  /** With --storm. */
  storm?: StormFigures;
  shutdownSeconds: number;
  nodewardPid: number;
  /**
   * Where the phases lie in a --cpu-prof profile: [start, end] in seconds before nodeward exited.
   * After a storm only the restarted process writes a profile, so only "storm" is there.
   */
  phasesBeforeExitSeconds: Partial<Record<"connect" | "steady" | "storm", [number, number]>>;
  loadAverage1mAtEnd: number;
}

const f = (v: number, digits = 1) => v.toFixed(digits);
const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ") || "none";
const ms = (s: Summary) => `p50 ${f(s.p50)}  p99 ${f(s.p99)}  max ${f(s.max)} ms  (n=${s.count})`;

/** The human summary printed at the end of a run. */
export function formatResult(r: BenchResult): string {
  const enrol =
    r.enrolment === "cached"
      ? "cached identities"
      : `${r.enrolment.enrolled} enrolled (${r.enrolment.failed} failed) in ${f(r.enrolment.seconds)} s, ${f(r.enrolment.perSecond)}/s`;
  return [
    `runos bench:agents  ${r.startedAt}`,
    `code         ${r.code.head}, ${r.code.changedSrcFiles} uncommitted src files (diff ${r.code.srcDiff})`,
    `machine      ${r.machine.nproc} x ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, load ${r.machine.loadAverage1m} -> ${r.loadAverage1mAtEnd}, CPU pressure ${r.cpuPressure.connect ?? "?"} (connect) / ${r.cpuPressure.steady ?? "?"} (steady)`,
    `setup        ${r.options.agents} agents in ${r.options.workers} workers, ${r.clusters} clusters of ${r.options.clusterSize}, ${r.options.wireguard ? "nodes with wg0" : "bare nodes (no wg0)"}, heartbeat ${r.options.heartbeatMs} ms; ${enrol}`,
    `connect      ${r.connect.connected}/${r.connect.agents} streams (failed ${r.connect.failed}, redials ${r.connect.retries}, refused with a retry hint ${r.connect.refusedWithHint}) in ${f(r.connect.allConnectedSeconds, 2)} s; accept-queue overflows ${r.connect.tcp.listenOverflows}, SYN resends ${r.connect.tcp.synRetransmits}`,
    ...(r.connect.errors.length
      ? [`             dial errors (first kinds): ${[...new Set(r.connect.errors)].join("; ")}`]
      : []),
    `             per agent dial->hello ${ms(r.connect.perAgentMs)}`,
    `             hello RTT ${ms(r.connect.helloRttMs)}`,
    `             nodeward CPU ${f(r.connect.nodewardCpuSeconds, 2)} s = ${f(r.connect.nodewardCpuMsPerConnect, 2)} ms per connect; workers ${f(r.connect.workersCpuSeconds, 2)} s, event-loop delay p99 ${r.connect.workersEventLoopDelayP99Ms.join(" / ")} ms`,
    `             pushed by nodeward meanwhile: ${counts(r.connect.instructionsReceived)}; until the window: ${counts(r.connect.instructionsReceivedWithWarmup)}`,
    `memory       nodeward RSS ${f(r.memory.baselineMiB)} MiB idle -> ${f(r.memory.afterConnectMiB)} after connect -> ${f(r.memory.steadyMeanMiB)} steady (max ${f(r.memory.steadyMaxMiB)}) -> ${f(r.memory.endMiB)} end`,
    `             ${f(r.memory.perSessionKiB)} KiB per session`,
    `heartbeats   ${r.heartbeats.windowSeconds} s window, ${f(r.heartbeats.perSecond)}/s, RTT ${ms(r.heartbeats.rttMs)}`,
    `             failed ${r.heartbeats.failed}, skipped ${r.heartbeats.skipped}, agents with a beat ${r.heartbeats.agentsWithBeat}, disconnects ${r.heartbeats.disconnects}, open at end ${r.heartbeats.openSessionsAtEnd}`,
    `             pushed by nodeward in the window: ${counts(r.heartbeats.instructionsReceived)}`,
    `nodeward CPU ${f(r.nodewardCpu.cores * 100)} % of one core (${f(r.nodewardCpu.cores, 3)} cores), ${f(r.nodewardCpu.microsPerHeartbeat)} us per heartbeat${r.nodewardCpu.eventLoopDelayMs ? `; its event-loop delay p50 ${f(r.nodewardCpu.eventLoopDelayMs.p50)}  p99 ${f(r.nodewardCpu.eventLoopDelayMs.p99)}  max ${f(r.nodewardCpu.eventLoopDelayMs.max)} ms` : ""}`,
    `workers      ${f(r.workers.cpuCores, 2)} cores together, RSS ${r.workers.rssMiB.map((v) => f(v)).join(" / ")} MiB, event-loop delay p99 ${r.workers.eventLoopDelayP99Ms.map((v) => f(v)).join(" / ")} ms`,
    `instructions ${r.instructions.ok}/${r.instructions.sent} GET_NODE_STATUS via HTTP API, ${ms(r.instructions.rttMs)}`,
    ...(r.heap
      ? [
          `heap         live ${f(r.heap.beforeMiB)} MiB -> ${f(r.heap.afterMiB)} MiB = ${f(r.heap.perSessionKiB)} KiB per session; largest per session:`,
          ...r.heap.topGrowthPerSession
            .slice(0, 10)
            .map(
              (g) =>
                `               ${String(g.bytes).padStart(7)} B  ${String(g.count).padStart(6)} x  ${g.group}`,
            ),
        ]
      : []),
    ...(r.storm ? formatStorm(r.storm) : []),
    `shutdown     nodeward stopped in ${f(r.shutdownSeconds, 2)} s with ${r.heartbeats.openSessionsAtEnd} streams open`,
  ].join("\n");
}

function formatStorm(st: StormFigures): string[] {
  const seconds = (v: number | null) => (v === null ? "-" : `${f(v, 2)} s`);
  const sec = (x: Summary) => `p50 ${f(x.p50, 2)}  p99 ${f(x.p99, 2)}  max ${f(x.max, 2)} s  (n=${x.count})`;
  const nw = st.nodeward;
  return [
    st.timedOut
      ? `storm        kill -9 with ${st.onlineBefore}/${st.agents} online: only ${st.online} back by the deadline (${st.notBack} not back)`
      : `storm        kill -9 with ${st.onlineBefore}/${st.agents} online: all back ${seconds(st.allOnlineAfterKillSeconds)} after the kill, ${seconds(st.allOnlineAfterListeningSeconds)} after L2 listened again`,
    `             nodeward gone in ${f(st.exitSeconds, 2)} s; new one listening on L2 ${f(st.listeningAfterKillSeconds, 2)} s after the kill (start-up ${f(nw.startupSeconds, 2)} s, ${f(nw.startupCpuSeconds, 2)} s CPU), /healthz ${f(st.healthyAfterKillSeconds, 2)} s`,
    `             gave up ${st.gaveUp} (terminal refusals ${st.terminalRefusals}), not back ${st.notBack}, dropped again ${st.droppedAgain}`,
    `             offline per agent ${sec(st.offlinePerAgentSeconds)}`,
    `               of which before the last dial ${sec(st.offlineSplitSeconds.beforeDial)}`,
    `               dial to channel ready ${sec(st.offlineSplitSeconds.dialToReady)}`,
    `               ready to hello answer ${sec(st.offlineSplitSeconds.readyToHello)}`,
    `             redials ${st.redials} (max ${st.maxRedialsPerAgent} per agent), failed dials ${st.dialFailures}, refused with a retry hint ${st.refusedWithHint} (hint ${ms(st.retryHintsMs)})`,
    `             nodeward CPU ${f(nw.cpuSeconds, 2)} s after L2 listened = ${f(nw.cpuMsPerReconnect, 2)} ms per reconnect; ${f(nw.meanCores, 2)} cores mean, ${f(nw.peakCores1s, 2)} peak (1 s); RSS peak ${f(nw.peakRssMiB)} MiB, ${f(nw.rssAtEndMiB)} at the end`,
    `             accept-queue overflows ${st.tcp.listenOverflows}, SYN resends ${st.tcp.synRetransmits}; CPU pressure ${st.cpuPressure ?? "?"}; workers ${f(st.workers.cpuSeconds, 2)} s CPU, event-loop delay p99 ${st.workers.eventLoopDelayP99Ms.join(" / ")} ms`,
    `             pushed by nodeward meanwhile: ${counts(st.instructionsReceived)}`,
    ...(st.errors.length ? [`             failures (first kinds): ${st.errors.join("; ")}`] : []),
  ];
}
