/** What a simulated agent needs to open its L2Sec stream; the CA is shared by all. */
export interface AgentIdentity {
  machineId: string;
  cluster: string;
  nid: string;
  certPem: string;
  keyPem: string;
}

/** A machine to register, with the (multi-use) token of the cluster it joins. */
export interface MachineToEnrol {
  machineId: string;
  cluster: string;
  token: string;
}

export interface Endpoint {
  host: string;
  l1Port: number;
  l2Port: number;
}

export interface ConnectReport {
  agents: number;
  connected: number;
  failed: number;
  /** Redials over all agents (after a failed dial, a refusal or a dropped stream), by the real reconnect policy. */
  retries: number;
  /** Refusals with a retry hint (admission control), over all agents. */
  refusedWithHint: number;
  /** Wall-clock time (Date.now()) of the last hello answer in this worker. */
  lastHelloAt: number;
  /** Per connected agent, from its first dial to its hello answer (ms). */
  connectMs: number[];
  /** Per connected agent, the hello request alone (ms). */
  helloRttMs: number[];
  errors: string[];
  /** CPU this worker used during the phase (the simulated side competes for the same cores). */
  workerCpuSeconds: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** Instructions nodeward pushed to this worker's agents during the connect phase, by type. */
  instructions: Record<string, number>;
}

export interface WindowReport {
  /** Heartbeat round trips completed inside the window (ms). */
  rttMs: number[];
  sent: number;
  failed: number;
  /** Ticks skipped because the previous heartbeat was still waiting (as the real agent does). */
  skipped: number;
  agentsWithBeat: number;
  disconnects: number;
  openSessions: number;
  /** Instructions nodeward pushed during the window, by type. */
  instructions: Record<string, number>;
  workerCpuSeconds: number;
  workerRssKiB: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

/** A worker's view of the reconnect storm, from storm-arm (just before nodeward is killed) to storm-end. */
export interface StormReport {
  agents: number;
  /** Agents with a hello answered since storm-arm and their stream open now. */
  online: number;
  /** Agents with a hello answered since storm-arm (open or not now). */
  back: number;
  /** Agents whose stream dropped after storm-arm. */
  dropped: number;
  /** Agents that were back and dropped again. */
  droppedAgain: number;
  /** Wall clock (Date.now()) of the last first-hello-after-the-drop in this worker, 0 if none. */
  lastBackAt: number;
  /** Per agent back: from its stream dropping to nodeward answering its next hello (ms). */
  offlineMs: number[];
  /**
   * The same time split by the dial that brought the agent back: before that dial started (the
   * reconnect policy's waits and earlier failed dials), from its start until the channel was
   * ready (TCP + TLS, including grpc-js's own reconnect backoff while nothing listened), and
   * from ready to the hello answer (stream set-up, authentication, admission, the hello).
   */
  offlineSplitMs: { beforeDial: number[]; dialToReady: number[]; readyToHello: number[] };
  redials: number;
  maxRedialsPerAgent: number;
  /** Dials or stream set-ups that ended before a hello answer (refusals included). */
  dialFailures: number;
  /** Refusals with a retry hint, and the hints (ms). */
  refusedWithHint: number;
  retryHintsMs: number[];
  /** Refusals with a status waiting cannot fix (UNAUTHENTICATED, PERMISSION_DENIED). */
  terminalRefusals: number;
  /** Agents with at least one terminal refusal: they would never come back ("gave up"). */
  agentsGaveUp: number;
  /** The first few failure messages. */
  errors: string[];
  /** Instructions nodeward pushed during the storm, by type. */
  instructions: Record<string, number>;
  workerCpuSeconds: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

export type ToWorker =
  | { kind: "enrol"; endpoint: Endpoint; caPem: string; aid: string; machines: MachineToEnrol[] }
  | { kind: "prepare"; endpoint: Endpoint; caPem: string; identities: AgentIdentity[] }
  /** Start every agent's reconnect loop; report when all are online or after timeoutMs (default 240 s). */
  | { kind: "connect"; timeoutMs?: number }
  | { kind: "storm-arm" }
  | { kind: "storm-status" }
  | { kind: "storm-end" }
  | { kind: "window-start" }
  | { kind: "window-end" }
  | { kind: "quiesce" }
  | { kind: "stop" };

export type FromWorker =
  | { kind: "ready" }
  | { kind: "enrolled"; identities: AgentIdentity[]; failures: number; errors: string[] }
  | { kind: "prepared" }
  | { kind: "progress"; connected: number }
  | { kind: "connected"; report: ConnectReport }
  | { kind: "window-started"; instructionsSinceConnect: Record<string, number> }
  | { kind: "storm-armed"; online: number }
  | { kind: "storm-status"; online: number }
  | { kind: "storm-report"; report: StormReport }
  | { kind: "window-report"; report: WindowReport }
  | { kind: "quiesced" }
  | { kind: "stopped" }
  | { kind: "failed"; message: string };

/** Options every worker gets once, as JSON in its first argument. */
export interface WorkerOptions {
  index: number;
  heartbeatMs: number;
  /** Dials in flight per worker; 0 = all agents at once (a reconnect storm). */
  connectConcurrency: number;
  /** Dials in flight per worker in the reconnect loop; 0 = no limit. */
  dialConcurrency: number;
  enrolConcurrency: number;
  /** Simulated nodes have WireGuard (wg0 in memory, key registered at enrolment). */
  wireguard: boolean;
}
