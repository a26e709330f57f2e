import { createLogger } from "../../common/log.js";
import { type NodewardConfig, parseDuration } from "../config.js";
import { createNodeward } from "../create-nodeward.js";
import type { CliIo, CommandResult } from "./io.js";

export interface ServeOptions {
  dataDir: string;
  host: string[];
  grpcHost: string;
  l1Port: number;
  l2Port: number;
  httpPort: number;
  httpHost: string;
  kubeApiPort: number;
  certTtl: string;
  offlineAfter: string;
  vipFence: string;
  admitPerSecond: number;
  maxHandshakes: number;
  maxWaitingConnections: number;
  maxRegistrations: number;
  logLevel: string;
  installerHost: string;
  installerPort: number;
  installerUrl?: string;
  kubernetesVersion: string;
}

/** `nodeward serve`: runs until SIGINT/SIGTERM, then shuts down cleanly. */
export async function serve(options: ServeOptions, io: CliIo): Promise<CommandResult> {
  const config: Partial<NodewardConfig> & { dataDir: string } = {
    dataDir: options.dataDir,
    hosts: options.host,
    grpcHost: options.grpcHost,
    l1Port: options.l1Port,
    l2Port: options.l2Port,
    httpPort: options.httpPort,
    httpHost: options.httpHost,
    kubeApiPort: options.kubeApiPort,
    certTtlMs: parseDuration(options.certTtl),
    offlineAfterMs: parseDuration(options.offlineAfter),
    vipFenceMs: parseDuration(options.vipFence),
    admitPerSecond: options.admitPerSecond,
    maxHandshakes: options.maxHandshakes,
    maxWaitingConnections: options.maxWaitingConnections,
    maxRegistrations: options.maxRegistrations,
    logLevel: options.logLevel,
    installerHost: options.installerHost,
    installerPort: options.installerPort,
    installerUrl: options.installerUrl ?? null,
    kubernetesVersion: options.kubernetesVersion,
  };
  const nw = await createNodeward({ config, log: createLogger({ level: options.logLevel }) });
  const shutdown = io.waitForShutdown();
  const ports = await nw.start();
  const c = nw.config;
  io.stderr.write(
    [
      `nodeward listening`,
      `  enrolment (L1Sec, TLS)    ${c.grpcHost}:${ports.l1}`,
      `  agents    (L2Sec, mTLS)   ${c.grpcHost}:${ports.l2}`,
      `  API                       http://${c.httpHost}:${ports.http}`,
      `  installer (bundles)       ${ports.installer === undefined ? "off" : `${c.installerHost}:${ports.installer}`}`,
      `  hosts                     ${c.hosts.join(", ")}`,
      `  CA hash                   ${nw.caHash}`,
      `  data dir                  ${c.dataDir}`,
      "",
    ].join("\n"),
  );
  const signal = await shutdown;
  io.stderr.write(`${signal}: shutting down\n`);
  await nw.stop();
  return { data: { stopped: true, signal } };
}
