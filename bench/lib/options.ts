import { parseArgs } from "node:util";

export interface BenchOptions {
  agents: number;
  workers: number;
  steadySeconds: number;
  warmupSeconds: number;
  heartbeatMs: number;
  instructions: number;
  clusterSize: number;
  /** Nodes with wg0 (default) or bare nodes without WireGuard (--bare). */
  wireguard: boolean;
  connectConcurrency: number;
  /** Dials in flight per worker in every agent's reconnect loop (the storm too); 0 = no limit. */
  dialConcurrency: number;
  enrolConcurrency: number;
  workDir: string;
  fresh: boolean;
  logLevel: string;
  cpuProf: boolean;
  heapSnapshots: boolean;
  maxMinutes: number;
  /** After the API sample: kill -9 nodeward, restart it on the same ports and data dir, time the reconnect storm. */
  storm: boolean;
  /** How long the storm may take, from the kill, before the agents still offline count as not back. */
  stormTimeoutSeconds: number;
  /** nodeward's `--admit-per-second` (new sessions admitted per second); undefined = nodeward's default. */
  admitPerSecond: number | undefined;
}

export const usage = `usage: node --import tsx bench/agents.ts [options]

  --agents N               simulated agents (default 1000)
  --workers W              worker processes running the agents (default 2, 4 from 1,500 agents)
  --steady-seconds S       steady-state measurement window (default 60)
  --warmup-seconds S       pause between the last hello and the window (default 15: one heartbeat
                           interval plus the overlay's 10 s push timeout)
  --heartbeat-ms MS        heartbeat interval (default 5000, as the real agent)
  --instructions K         GET_NODE_STATUS round trips through the HTTP API (default 50)
  --cluster-size M         nodes per cluster, 1-253 (one /24 overlay subnet each; default 100)
  --bare                   nodes without WireGuard: no key registered, SET_VPN_PEERS fails
                           (default: wg0 in memory, key registered through ManualSync at enrolment)
  --connect-concurrency C  dials in flight per worker, 0 = all at once (default 0)
  --dial-concurrency D     simulator limit: dials in flight per worker in the agents' reconnect loop,
                           the storm included; 0 = none (default). Keeps the simulator responsive at
                           10,000 agents on 2 cores, at the price of a smoother arrival than real agents
  --enrol-concurrency C    registrations in flight per worker (default 8)
  --work-dir DIR           nodeward data dir, identity cache, logs, results (default /tmp/runos-bench-agents)
  --fresh                  delete the work dir first (new CA: every agent enrols again)
  --log-level LEVEL        nodeward log level (default info, as in production)
  --cpu-prof               write a V8 CPU profile of nodeward into DIR/profiles
  --heap-snapshots         heap snapshots of nodeward before connecting and at the end (into DIR/profiles),
                           for live heap per session; the snapshots disturb the RSS figures of that run
  --storm                  reconnect storm after the API sample: kill -9 nodeward, start it again on the
                           same ports and data dir, and measure until every agent had its hello answered
                           again (time, nodeward peak RSS and CPU, refusals, agents not back)
  --storm-timeout-s S      bound on the storm, from the kill (default 300)
  --admit-per-second N     passed to nodeward: new agent sessions admitted per second (default: nodeward's, 500)
  --max-minutes M          hard stop for the whole run (default 30)
`;

export function parseOptions(argv: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      agents: { type: "string", default: "1000" },
      workers: { type: "string" },
      "steady-seconds": { type: "string", default: "60" },
      "warmup-seconds": { type: "string", default: "15" },
      "heartbeat-ms": { type: "string", default: "5000" },
      instructions: { type: "string", default: "50" },
      "cluster-size": { type: "string", default: "100" },
      "connect-concurrency": { type: "string", default: "0" },
      "dial-concurrency": { type: "string", default: "0" },
      "enrol-concurrency": { type: "string", default: "8" },
      "work-dir": { type: "string", default: "/tmp/runos-bench-agents" },
      fresh: { type: "boolean", default: false },
      bare: { type: "boolean", default: false },
      "log-level": { type: "string", default: "info" },
      "cpu-prof": { type: "boolean", default: false },
      "heap-snapshots": { type: "boolean", default: false },
      "max-minutes": { type: "string", default: "30" },
      storm: { type: "boolean", default: false },
      "storm-timeout-s": { type: "string", default: "300" },
      "admit-per-second": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const agents = int(values.agents, "--agents", 1, 50_000);
  return {
    agents,
    workers: values.workers ? int(values.workers, "--workers", 1, 16) : agents >= 1_500 ? 4 : 2,
    steadySeconds: int(values["steady-seconds"], "--steady-seconds", 5, 3_600),
    warmupSeconds: int(values["warmup-seconds"], "--warmup-seconds", 0, 600),
    heartbeatMs: int(values["heartbeat-ms"], "--heartbeat-ms", 100, 600_000),
    instructions: int(values.instructions, "--instructions", 0, 10_000),
    clusterSize: int(values["cluster-size"], "--cluster-size", 1, 253),
    wireguard: !values.bare,
    connectConcurrency: int(values["connect-concurrency"], "--connect-concurrency", 0, 50_000),
    dialConcurrency: int(values["dial-concurrency"], "--dial-concurrency", 0, 50_000),
    enrolConcurrency: int(values["enrol-concurrency"], "--enrol-concurrency", 1, 256),
    workDir: values["work-dir"],
    fresh: values.fresh,
    logLevel: values["log-level"],
    cpuProf: values["cpu-prof"],
    heapSnapshots: values["heap-snapshots"],
    maxMinutes: int(values["max-minutes"], "--max-minutes", 1, 600),
    storm: values.storm,
    stormTimeoutSeconds: int(values["storm-timeout-s"], "--storm-timeout-s", 10, 3_600),
    admitPerSecond: values["admit-per-second"]
      ? int(values["admit-per-second"], "--admit-per-second", 1, 1_000_000)
      : undefined,
  };
}

function int(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new Error(`${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}
