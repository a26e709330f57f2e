import { stat } from "node:fs/promises";
import { errorMessage } from "../../common/errors.js";
import { readDaemonState } from "../daemon/state.js";
import { detectNodeIp, isRegistered, loadConfig } from "../identity/config.js";
import { identityPaths, readCertificateInfo, readIdentity } from "../identity/files.js";
import { createL2Client, waitForReady } from "../link/clients.js";
import { endpointFromConfig, hostPort } from "../link/endpoints.js";
import { agentVersion } from "../version.js";
import type { CommandSpec } from "./command.js";

const dayMs = 24 * 3600 * 1000;

/** Read-only: it dials (TLS handshake only) but writes nothing, locally or remotely. */
export const statusCommand: CommandSpec = {
  define: (program) =>
    program.command("status").description("Show the agent's health").option("--json", "as JSON"),
  async run(_options, _args, ctx) {
    const config = loadConfig(ctx.paths);
    const files = identityPaths(ctx.paths, config);
    const endpoint = endpointFromConfig(config);
    const daemon = await readDaemonState(ctx.paths.stateFile);
    const daemonAlive = daemon !== undefined && isAlive(daemon.pid);

    let cert: Record<string, unknown>;
    let certProblem: string | undefined;
    try {
      const info = await readCertificateInfo(files);
      const expired = info.notAfter.getTime() <= Date.now();
      cert = {
        path: files.cert,
        serial: info.serial,
        expires: info.notAfter.toISOString(),
        daysRemaining: Math.trunc((info.notAfter.getTime() - Date.now()) / dayMs),
        expired,
      };
      if (expired) certProblem = "certificate expired: run `runos certificate renew` or register again";
    } catch (err) {
      cert = { path: files.cert, error: errorMessage(err) };
      certProblem = "certificate unreadable: run `runos register` first";
    }

    let connected = false;
    let connectError: string | undefined;
    if (isRegistered(config) && !certProblem) {
      try {
        const client = createL2Client(endpoint, await readIdentity(files));
        try {
          await waitForReady(client, 5_000, hostPort(endpoint.host, endpoint.l2Port));
          connected = true;
        } finally {
          client.close();
        }
      } catch (err) {
        connectError = errorMessage(err);
      }
    }
    const logSize = await stat(ctx.paths.logFile)
      .then((s) => s.size)
      .catch(() => undefined);
    const degraded = !connected || certProblem !== undefined;
    const data = {
      version: agentVersion,
      binary: process.argv[1] ?? "",
      connected,
      connectError,
      nodewardHost: endpoint.host,
      daemon: daemon ? { ...daemon, running: daemonAlive } : { running: false },
      config: {
        aid: config.client.aid,
        nid: config.node.nid,
        nodeIp: config.node.ip || detectNodeIp(),
        nodewardHost: endpoint.host,
        l1Port: endpoint.l1Port,
        l2Port: endpoint.l2Port,
      },
      cert,
      log: { path: ctx.paths.logFile, size: logSize ?? 0 },
      degraded,
    };
    const or = (v: unknown, empty: string) => (v === undefined || v === "" ? empty : String(v));
    const human = [
      "RunOS Node Agent Status",
      `  Version:        ${agentVersion}`,
      `  Node:           ${or(config.node.nid, "(not registered)")} (account ${or(config.client.aid, "(not registered)")})`,
      `  Control plane:  ${or(endpoint.host, "(not set)")} ${connected ? "reachable" : `NOT reachable${connectError ? ` (${connectError})` : ""}`}`,
      `  Daemon:         ${daemonAlive ? `running (pid ${daemon?.pid}), ${daemon?.connected ? `connected since ${daemon?.sessionSince}` : "not connected"}` : "not running"}`,
      `  Last heartbeat: ${or(daemon?.lastHeartbeatAt, "(none)")}`,
      `  Certificate:    ${cert.error ? String(cert.error) : `expires ${cert.expires} (${cert.daysRemaining} days)`}`,
      `  Log file:       ${ctx.paths.logFile} (${logSize ?? 0} bytes)`,
      ...(certProblem ? [`  Problem:        ${certProblem}`] : []),
    ].join("\n");
    return { data, human, exitCode: degraded ? 1 : 0 };
  },
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
