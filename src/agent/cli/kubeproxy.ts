import type { Command } from "commander";
import { RunosError } from "../../common/errors.js";
import { execArgv } from "../host/exec.js";
import { createHaproxyPort, type HaproxyPort } from "../host/haproxy.js";
import { parseConfiguredBackends } from "../host/haproxy-config.js";
import type { LiveServer } from "../host/haproxy-socket.js";
import { loadConfig } from "../identity/config.js";
import { identityPaths, readIdentity } from "../identity/files.js";
import { applyControlPlaneEndpoints } from "../kubeproxy/apply.js";
import { createL2Client, describeGrpcError } from "../link/clients.js";
import { endpointFromConfig } from "../link/endpoints.js";
import { type CommandContext, type CommandSpec, commandGroup } from "./command.js";

export interface KubeproxyCliDeps {
  haproxy(ctx: CommandContext, configPath?: string): HaproxyPort;
  /** `kubeEndpoint` of every control-plane node, from the unary GetControlPlaneNodes. */
  controlPlaneEndpoints(ctx: CommandContext): Promise<string[]>;
}

const defaultDeps: KubeproxyCliDeps = {
  haproxy: (ctx, configPath) => createHaproxyPort(ctx.paths, execArgv, { configPath }),
  async controlPlaneEndpoints(ctx) {
    const config = loadConfig(ctx.paths);
    const identity = await readIdentity(identityPaths(ctx.paths, config));
    const client = createL2Client(endpointFromConfig(config), identity);
    try {
      const response = await client.getControlPlaneNodes({}, { deadlineMs: 30_000 });
      return response.ControlPlaneNodes.map((n) => n.kubeEndpoint).filter((e) => e !== "");
    } catch (err) {
      throw describeGrpcError(err, "GetControlPlaneNodes");
    } finally {
      client.close();
    }
  },
};

/** One backend as `kubeproxy list --json` prints it (spec 6.5's shape plus live fields). */
export interface BackendView {
  name: string;
  /** `runtime`: live from HAProxy's admin socket; `config`: parsed from the file (HAProxy not running). */
  source: "runtime" | "config";
  servers: ({ name: string; address: string } & Partial<Omit<LiveServer, "backend" | "name" | "address">>)[];
}

function kubeproxyGroup(program: Command): Command {
  return commandGroup(program, "kubeproxy", "The local Kubernetes API load balancer (HAProxy on port 6446)");
}

export function createKubeproxyCommands(deps: KubeproxyCliDeps = defaultDeps): {
  list: CommandSpec;
  refresh: CommandSpec;
} {
  const list: CommandSpec = {
    define: (program) =>
      kubeproxyGroup(program)
        .command("list")
        .description("Backends with their live health (from HAProxy, else from its config file)")
        .option("--config <path>", "HAProxy config file (default /etc/haproxy/haproxy.cfg)")
        .option("--json", "as JSON"),
    async run(options, _args, ctx) {
      const haproxy = deps.haproxy(ctx, typeof options.config === "string" ? options.config : undefined);
      const backends = await listBackends(haproxy);
      if (backends.length === 0) ctx.io.err("No HAProxy backends found");
      return { data: backends, human: backends.length ? renderBackends(backends, haproxy.configPath) : "" };
    },
  };

  const refresh: CommandSpec = {
    define: (program) =>
      kubeproxyGroup(program)
        .command("refresh")
        .description("Fetch the control-plane nodes now and apply them to HAProxy")
        .option("--json", "as JSON"),
    async run(_options, _args, ctx) {
      const endpoints = await deps.controlPlaneEndpoints(ctx);
      if (endpoints.length === 0) {
        return {
          data: {
            changed: false,
            endpoints: [],
            action: "unchanged",
            skipped: [],
            reason: "no control-plane nodes",
          },
          human: "The control plane lists no control-plane nodes; HAProxy was left unchanged.",
        };
      }
      const result = await applyControlPlaneEndpoints(
        deps.haproxy(ctx),
        endpoints,
        { source: "refresh", ensure: true },
        ctx.log,
      );
      const skipped = result.skipped.length
        ? `\n${result.skipped.map((s) => `  skipped ${s.endpoint}: ${s.reason}`).join("\n")}`
        : "";
      const human = result.changed
        ? `HAProxy ${result.action} with ${result.endpoints.length} control-plane endpoint(s): ${result.endpoints.join(", ")}`
        : `HAProxy already balances these ${result.endpoints.length} endpoint(s); nothing changed: ${result.endpoints.join(", ")}`;
      return { data: result, human: `${human}${skipped}` };
    },
  };
  return { list, refresh };
}

/** Live state when HAProxy answers on its admin socket, else the config file (spec 6.5). */
export async function listBackends(haproxy: HaproxyPort): Promise<BackendView[]> {
  let live: LiveServer[] | undefined;
  try {
    live = await haproxy.liveServers();
  } catch {
    live = undefined;
  }
  if (live) {
    const byBackend = new Map<string, BackendView>();
    for (const { backend, ...server } of live) {
      const view = byBackend.get(backend) ?? { name: backend, source: "runtime" as const, servers: [] };
      view.servers.push(server);
      byBackend.set(backend, view);
    }
    return [...byBackend.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  const text = await haproxy.readConfig();
  if (text === undefined) {
    throw new RunosError("NA_NOT_FOUND", `HAProxy config not found at ${haproxy.configPath}`, {
      hint: "run `runos kubeproxy refresh`",
    });
  }
  return parseConfiguredBackends(text).map((b) => ({ ...b, source: "config" as const }));
}

function renderBackends(backends: BackendView[], configPath: string): string {
  const live = backends[0]?.source === "runtime";
  const lines = [
    live ? "HAProxy backends (live):" : `HAProxy backends (from ${configPath}; HAProxy is not running):`,
  ];
  for (const backend of backends) {
    lines.push(`Backend: ${backend.name}`);
    for (const s of backend.servers) {
      let line = `  Server: ${s.name}, Address: ${s.address}`;
      if (s.status !== undefined) {
        const since = s.lastChangeSeconds === undefined ? "" : ` for ${s.lastChangeSeconds} s`;
        const check = s.checkStatus ? ` (${s.checkStatus.replace(/^\* /, "")})` : "";
        line += `, State: ${s.status}${check}${since}, Sessions: ${s.currentSessions ?? 0} now / ${s.totalSessions ?? 0} total`;
      }
      lines.push(line);
    }
  }
  return lines.join("\n");
}

const commands = createKubeproxyCommands();
export const kubeproxyListCommand = commands.list;
export const kubeproxyRefreshCommand = commands.refresh;
