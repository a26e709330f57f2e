import type { CodeState, Machine } from "./machine.js";
import type { BenchOptions } from "./options.js";
import type { Summary } from "./stats.js";

export interface BenchResult {
  startedAt: string;
  machine: Machine;
  code: CodeState;
  options: Omit<BenchOptions, "workDir" | "fresh">;
  /**
   * Linux PSI: share of each phase during which some task on the machine waited for a CPU
   * (0 = an idle box, near 1 = contended all the time). The noise gauge for these figures.
   */
  cpuPressure: { connect: number | null; steady: number | null };
  /** Distinct clusters the agents belong to (the overlay pushes per cluster). */
  clusters: number;
  enrolment: { enrolled: number; failed: number; seconds: number; perSecond: number } | "cached";
  connect: {
    agents: number;
    connected: number;
    failed: number;
    retries: number;
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
  nodewardCpu: { windowSeconds: number; cpuSeconds: number; cores: number; microsPerHeartbeat: number };
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
  shutdownSeconds: number;
  nodewardPid: number;
  /** Where the phases lie in a --cpu-prof profile: [start, end] in seconds before nodeward exited. */
  phasesBeforeExitSeconds: { connect: [number, number]; steady: [number, number] };
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
    `connect      ${r.connect.connected}/${r.connect.agents} streams (failed ${r.connect.failed}, retries ${r.connect.retries}) in ${f(r.connect.allConnectedSeconds, 2)} s; accept-queue overflows ${r.connect.tcp.listenOverflows}, SYN resends ${r.connect.tcp.synRetransmits}`,
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
    `nodeward CPU ${f(r.nodewardCpu.cores * 100)} % of one core (${f(r.nodewardCpu.cores, 3)} cores), ${f(r.nodewardCpu.microsPerHeartbeat)} us per heartbeat`,
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
    `shutdown     nodeward stopped in ${f(r.shutdownSeconds, 2)} s with ${r.heartbeats.openSessionsAtEnd} streams open`,
  ].join("\n");
}
