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
  /** Extra dial attempts beyond the first, over all agents. */
  retries: number;
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

export type ToWorker =
  | { kind: "enrol"; endpoint: Endpoint; caPem: string; aid: string; machines: MachineToEnrol[] }
  | { kind: "prepare"; endpoint: Endpoint; caPem: string; identities: AgentIdentity[] }
  | { kind: "connect" }
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
  enrolConcurrency: number;
  /** Simulated nodes have WireGuard (wg0 in memory, key registered at enrolment). */
  wireguard: boolean;
}
