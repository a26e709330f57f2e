import { RunosError } from "../common/errors.js";

/** Everything nodeward needs to know to run; every field has a default except the data dir. */
export interface NodewardConfig {
  dataDir: string;
  /** Names and addresses the server certificate covers; the first one goes into install commands. */
  hosts: string[];
  /** Address the two gRPC listeners bind to (agents dial in from other machines). */
  grpcHost: string;
  l1Port: number;
  l2Port: number;
  httpHost: string;
  httpPort: number;
  /** Lifetime of node client certificates. */
  certTtlMs: number;
  /** A node without a heartbeat for this long is shown offline. */
  offlineAfterMs: number;
  /** Kubernetes API port on control-plane nodes: agents balance `https://<overlay IP>:<port>`. */
  kubeApiPort: number;
  /** The VIP leaves an unreachable holder this long after its last heartbeat (docs/vip.md). */
  vipFenceMs: number;
  /** Presence timer: offline checks and the batched heartbeat write both run once per tick. */
  presenceTickMs: number;
  /** How long a superseded client certificate keeps working after RegenerateCertificate. */
  certGraceMs: number;
  /** Per-session cap on messages waiting to be written; a session beyond it is disconnected. */
  sendQueueLimit: number;
  /** New agent sessions admitted per second (and as a burst); refused ones get a retry hint. */
  admitPerSecond: number;
  /** TLS handshakes in progress at once per listener; more connections wait their turn. */
  maxHandshakes: number;
  /** Accepted connections waiting for a handshake per listener (also the accept backlog). */
  maxWaitingConnections: number;
  handshakeTimeoutMs: number;
  /**
   * Who accepts connections on the gRPC ports: a small acceptor process (libuv accepts one
   * connection per loop iteration, too few when nodeward's loop is busy in a storm), or nodeward
   * itself ("inline": tests, which start many nodewards).
   */
  acceptor: "process" | "inline";
  /** Registrations (L1Sec Register) in progress at once; more get a retry hint. */
  maxRegistrations: number;
  logLevel: string;
  /** The public installer endpoint (Kubernetes bundles); null = not served (library default). */
  installerHost: string;
  installerPort: number | null;
  /** The base URL nodes fetch from; default http://<first host>:<installer port>. */
  installerUrl: string | null;
  /** Kubernetes version for nodes installed from the online repositories (no bundle imported). */
  kubernetesVersion: string;
}

export const defaultL1Port = 9191;
export const defaultL2Port = 9192;
export const defaultHttpPort = 8080;
export const defaultDataDir = "/var/lib/nodeward";

const day = 24 * 3600 * 1000;

export const defaults: Omit<NodewardConfig, "dataDir" | "hosts"> = {
  grpcHost: "0.0.0.0",
  l1Port: defaultL1Port,
  l2Port: defaultL2Port,
  httpHost: "127.0.0.1",
  httpPort: defaultHttpPort,
  certTtlMs: 90 * day,
  offlineAfterMs: 30_000,
  kubeApiPort: 6443,
  // > the agent's self-drop at default settings: 2 failed heartbeats of 10 s, 5 s apart (<= 30 s)
  vipFenceMs: 45_000,
  presenceTickMs: 1_000,
  certGraceMs: 5 * 60_000,
  sendQueueLimit: 1_000,
  admitPerSecond: 500,
  maxHandshakes: 512,
  maxWaitingConnections: 4_096,
  handshakeTimeoutMs: 10_000,
  maxRegistrations: 16,
  acceptor: "process",
  logLevel: "info",
  installerHost: "0.0.0.0",
  installerPort: null,
  installerUrl: null,
  kubernetesVersion: "v1.34.4",
};

/** Fills defaults and always adds the loopback names, so local tools can verify the certificate. */
export function resolveConfig(input: Partial<NodewardConfig> & { dataDir: string }): NodewardConfig {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const config = { ...defaults, hosts: [], ...defined, dataDir: input.dataDir } as NodewardConfig;
  config.hosts = normaliseHosts(config.hosts);
  for (const port of [config.l1Port, config.l2Port, config.httpPort]) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RunosError("NA_USAGE", `invalid port ${port}: expected 0-65535`);
    }
  }
  if (
    config.installerPort !== null &&
    (!Number.isInteger(config.installerPort) || config.installerPort < 0 || config.installerPort > 65535)
  ) {
    throw new RunosError("NA_USAGE", `invalid installer port ${config.installerPort}: expected 0-65535`);
  }
  if (config.installerUrl !== null && !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(config.installerUrl)) {
    throw new RunosError(
      "NA_USAGE",
      `invalid installer URL "${config.installerUrl}": expected http(s)://host[:port]`,
    );
  }
  if (!/^v1\.\d{1,3}\.\d{1,3}$/.test(config.kubernetesVersion)) {
    throw new RunosError(
      "NA_USAGE",
      `invalid Kubernetes version "${config.kubernetesVersion}": expected v1.X.Y`,
    );
  }
  if (!Number.isInteger(config.kubeApiPort) || config.kubeApiPort < 1 || config.kubeApiPort > 65535) {
    throw new RunosError("NA_USAGE", `invalid Kubernetes API port ${config.kubeApiPort}: expected 1-65535`);
  }
  return config;
}

export function normaliseHosts(hosts: readonly string[]): string[] {
  const cleaned = hosts.map((h) => h.trim()).filter((h) => h !== "");
  return [...new Set([...cleaned, "localhost", "127.0.0.1"])];
}

export { parseDuration } from "../common/duration.js";

export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65535) {
    throw new RunosError("NA_USAGE", `invalid port "${text}": expected a number 0-65535`);
  }
  return port;
}
