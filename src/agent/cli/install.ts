import type { Command } from "commander";
import { RunosError } from "../../common/errors.js";
import { configuredEtcdPort } from "../etcd/settings.js";
import { execArgv } from "../host/exec.js";
import { createHaproxyPort } from "../host/haproxy.js";
import { createKubePort } from "../host/kube.js";
import { createPeerStore } from "../host/peer-store.js";
import type { HostPorts } from "../host/ports.js";
import { createRoutesPort } from "../host/routes.js";
import { runShell } from "../host/shell.js";
import { createSystemPort } from "../host/system.js";
import { createWireGuardPort } from "../host/wireguard.js";
import { detectNodeIp, loadConfig } from "../identity/config.js";
import { identityPaths, readIdentity } from "../identity/files.js";
import { createInstallReporter } from "../install/reporter.js";
import { runInstallList } from "../install/run-list.js";
import { createL2Client, describeGrpcError } from "../link/clients.js";
import { endpointFromConfig } from "../link/endpoints.js";
import { sendNodelog } from "../link/nodelog.js";
import { syncVpn } from "../vpn/sync.js";
import { type CommandContext, type CommandSpec, commandGroup } from "./command.js";

export function createHost(ctx: CommandContext): HostPorts {
  return {
    kube: createKubePort(ctx.paths, execArgv),
    system: createSystemPort(),
    wireguard: createWireGuardPort(ctx.paths, execArgv),
    peerStore: createPeerStore(ctx.paths),
    routes: createRoutesPort(execArgv),
    etcd: configuredEtcdPort(ctx.paths, execArgv),
    haproxy: createHaproxyPort(ctx.paths, execArgv),
  };
}

async function openL2(ctx: CommandContext) {
  const config = loadConfig(ctx.paths);
  const identity = await readIdentity(identityPaths(ctx.paths, config));
  return { config, client: createL2Client(endpointFromConfig(config), identity) };
}

/** VPN part of `runos install` (the Kubernetes part arrives with its issue): install list, then sync. */
async function installWireguard(options: Record<string, unknown>, ctx: CommandContext) {
  const { config, client } = await openL2(ctx);
  try {
    let list: Awaited<ReturnType<typeof client.getInstallVpnCommands>>;
    try {
      list = await client.getInstallVpnCommands({}, { deadlineMs: 30_000 });
    } catch (err) {
      throw describeGrpcError(err, "GetInstallVpnCommands");
    }
    const quiet = Boolean(options.quiet || options.noProgress || options.json);
    const reporter = createInstallReporter(ctx.io, client, ctx.log, quiet);
    const outcome = await runInstallList(
      list.commands.map((c) => ({ command: c.command, ignoreFailure: c.ignoreFailure })),
      { shell: runShell, reporter, log: ctx.log },
    );
    if (!outcome.ok) {
      throw new RunosError(
        outcome.classification?.code ?? "NA_GENERIC",
        `install step failed: ${outcome.failedStep}`,
        {
          hint: outcome.classification?.remedy,
        },
      );
    }
    const sync = await syncVpn(client, createHost(ctx), { ip: config.node.ip || detectNodeIp() }, ctx.log);
    await sendNodelog(
      client,
      { type: "NodeInstallation", severity: 3, message: "Installation completed successfully" },
      ctx.log,
    );
    return { commands: outcome.ran, warnings: outcome.warnings, peers: sync };
  } finally {
    client.close();
  }
}

function installGroup(program: Command): Command {
  return (
    (program.commands.find((c) => c.name() === "install") as Command | undefined) ??
    program
      .command("install")
      .description("Install what this node needs (the control plane provides the command list)")
      .option("--quiet", "no progress output")
      .option("--no-progress", "no progress bar")
      .option("--json", "as JSON")
  );
}

export const installCommand: CommandSpec = {
  define: (program) => installGroup(program),
  async run(options, _args, ctx) {
    const result = await installWireguard(options, ctx);
    return {
      data: { vpn: result },
      human: `Installation completed: ${result.commands} commands, ${result.warnings} warning(s); ${result.peers.desired} VPN peer(s).`,
    };
  },
};

export const installWireguardCommand: CommandSpec = {
  define: (program) =>
    installGroup(program)
      .command("wireguard")
      .description("Install and configure the WireGuard overlay")
      .option("--json", "as JSON"),
  async run(options, _args, ctx) {
    const result = await installWireguard(options, ctx);
    return {
      data: result,
      human: `WireGuard installed: ${result.commands} commands, ${result.warnings} warning(s); ${result.peers.desired} VPN peer(s).`,
    };
  },
};

export const syncVpnCommand: CommandSpec = {
  define: (program) => {
    const sync = commandGroup(program, "sync", "Pull state from the control plane now");
    return sync
      .command("vpn")
      .description("Pull and apply this node's WireGuard peers")
      .option("--json", "as JSON");
  },
  async run(_options, _args, ctx) {
    const { config, client } = await openL2(ctx);
    try {
      const result = await syncVpn(
        client,
        createHost(ctx),
        { ip: config.node.ip || detectNodeIp() },
        ctx.log,
      );
      const skipped = result.skipped.length;
      return {
        data: result,
        human: skipped
          ? `VPN sync complete (${skipped} peer(s) skipped, see ${ctx.paths.logFile}).`
          : `VPN sync complete: ${result.desired} peer(s), ${result.added} added, ${result.updated} updated, ${result.removed} removed.`,
      };
    } finally {
      client.close();
    }
  },
};
