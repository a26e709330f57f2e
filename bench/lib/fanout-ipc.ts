/** IPC between bench/fanout.ts and its workers (bench/fanout-worker.ts). */
import type { AgentIdentity, Endpoint, MachineToEnrol } from "./ipc.js";

/** How a cluster's agents hear of a change: deltas (`peers-delta` announced) or the full list. */
export type Mode = "delta" | "full";

export interface FanoutAgent {
  identity: AgentIdentity;
  mode: Mode;
}

/** Options every worker gets once, as JSON in its first argument. */
export interface FanoutWorkerOptions {
  index: number;
  heartbeatMs: number;
  /** Dials in flight in this worker. */
  connectConcurrency: number;
  enrolConcurrency: number;
}

export interface FanoutConnectReport {
  agents: number;
  connected: number;
  failed: number;
  /** Extra dial attempts beyond the first (refusals by admission control, timeouts). */
  retries: number;
  /** Wall-clock time (Date.now()) of the last hello answer in this worker. */
  lastHelloAt: number;
  /** Per connected agent, from its first dial to its hello answer (ms). */
  connectMs: number[];
  errors: string[];
  workerCpuSeconds: number;
}

/**
 * What to watch for: a join (a message carrying `key`, as a delta upsert or inside a full set)
 * or a leave (`key` in a delta's remove list, or a full set without it), in `cluster`.
 */
export interface Watch {
  id: number;
  kind: "join" | "leave";
  key: string;
  cluster: string;
}

/** Instructions received, by type: how many and their payload bytes (the envelope's base64 JSON). */
export type Traffic = Record<string, { count: number; bytes: number }>;

/** One agent of the watched cluster, over one watch. */
export interface Receiver {
  /** Wall-clock time its handler finished the first message that applied the change; null = never. */
  appliedAt: number | null;
  /** The last such message (a change can be followed by refinements, e.g. the joiner's address). */
  lastAt: number | null;
  /** Peer instructions (SET_VPN_PEERS, RUNOS_VPN_PEERS_DELTA) it received meanwhile, and their bytes. */
  peerMessages: number;
  peerBytes: number;
  open: boolean;
}

export interface WatchReport {
  receivers: Receiver[];
  /** Everything the watched cluster's agents received meanwhile, by type. */
  inCluster: Traffic;
  /** Everything every other agent of this worker received meanwhile (should be nothing). */
  elsewhere: Traffic;
  workerCpuSeconds: number;
}

export interface Activity {
  /** Date.now() of the last instruction any agent of this worker handled (0 = none yet). */
  lastInstructionAt: number;
  /** Instructions handled since the connect phase began, by type. */
  instructions: Record<string, number>;
  open: number;
  /** Streams nodeward (or the connection) ended since the connect phase began. */
  disconnects: number;
}

export type ToFanoutWorker =
  | { kind: "enrol"; endpoint: Endpoint; caPem: string; aid: string; machines: MachineToEnrol[] }
  | { kind: "prepare"; endpoint: Endpoint; caPem: string; agents: FanoutAgent[] }
  | { kind: "connect" }
  | { kind: "activity" }
  | { kind: "arm"; watch: Watch }
  | { kind: "status" }
  | { kind: "collect" }
  | { kind: "quiesce" }
  | { kind: "stop" };

export type FromFanoutWorker =
  | { kind: "ready" }
  | { kind: "enrolled"; identities: AgentIdentity[]; failures: number; errors: string[] }
  | { kind: "prepared" }
  | { kind: "progress"; connected: number }
  | { kind: "connected"; report: FanoutConnectReport }
  | { kind: "activity"; activity: Activity }
  | { kind: "armed"; watched: number }
  | { kind: "status"; watched: number; open: number; applied: number; lastInstructionAt: number }
  | { kind: "collected"; report: WatchReport }
  | { kind: "quiesced" }
  | { kind: "stopped" }
  | { kind: "failed"; message: string };
