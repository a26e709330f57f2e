import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { sleep } from "../../common/clock.js";
import { parseDuration } from "../../common/duration.js";
import { RunosError } from "../../common/errors.js";
import { retryHint } from "../daemon/session.js";
import { configuredEtcdPort } from "../etcd/settings.js";
import { execArgv } from "../host/exec.js";
import { createHaproxyPort } from "../host/haproxy.js";
import { createKubePort } from "../host/kube.js";
import { createKubeadmPort } from "../host/kubeadm.js";
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
    kubeadm: createKubeadmPort(ctx.paths, execArgv),
  };
}

async function openL2(ctx: CommandContext) {
  const config = loadConfig(ctx.paths);
  const identity = await readIdentity(identityPaths(ctx.paths, config));
  return { config, client: createL2Client(endpointFromConfig(config), identity) };
}

type L2 = Awaited<ReturnType<typeof openL2>>["client"];

/** Runs a control plane's install list; a failed strict step is an error with its NA_* code. */
async function runList(
  commands: { command: string; ignoreFailure: boolean }[],
  options: Record<string, unknown>,
  ctx: CommandContext,
  client: L2,
) {
  const quiet = Boolean(options.quiet || options.noProgress || options.json);
  const reporter = createInstallReporter(ctx.io, client, ctx.log, quiet);
  const outcome = await runInstallList(
    commands.map((c) => ({ command: c.command, ignoreFailure: c.ignoreFailure })),
    { shell: runShell, reporter, log: ctx.log },
  );
  if (!outcome.ok) {
    throw new RunosError(
      outcome.classification?.code ?? "NA_GENERIC",
      `install step failed: ${outcome.failedStep}`,
      { hint: outcome.classification?.remedy },
    );
  }
  return outcome;
}

/** VPN part of `runos install`: install list, then sync. */
async function installWireguard(options: Record<string, unknown>, ctx: CommandContext) {
  const { config, client } = await openL2(ctx);
  try {
    let list: Awaited<ReturnType<typeof client.getInstallVpnCommands>>;
    try {
      list = await client.getInstallVpnCommands({}, { deadlineMs: 30_000 });
    } catch (err) {
      throw describeGrpcError(err, "GetInstallVpnCommands");
    }
    const outcome = await runList(list.commands, options, ctx, client);
    const sync = await syncVpn(client, createHost(ctx), { ip: config.node.ip || detectNodeIp() }, ctx.log);
    return { commands: outcome.ran, warnings: outcome.warnings, peers: sync };
  } finally {
    client.close();
  }
}

/** The files under /etc/netplan, for the control plane (spec 7.4). */
function netplanFiles(ctx: CommandContext): string {
  const dir = ctx.paths.onRoot("/etc/netplan");
  const files: Record<string, string> = {};
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      try {
        if (statSync(path).isFile()) files[`/etc/netplan/${name}`] = readFileSync(path, "utf8");
      } catch {}
    }
  }
  return Buffer.from(JSON.stringify(files)).toString("base64");
}

/**
 * Kubernetes part: asks for this node's list until the cluster can take it (a joining node waits
 * while the first control plane runs kubeadm init, or while another control plane joins), then runs it.
 */
async function installKubernetes(options: Record<string, unknown>, ctx: CommandContext) {
  const { client } = await openL2(ctx);
  const waitMs = parseDuration(typeof options.wait === "string" ? options.wait : "30m");
  const deadline = Date.now() + waitMs;
  try {
    let list: Awaited<ReturnType<typeof client.getInstallCommands>>;
    let announced = "";
    for (;;) {
      try {
        list = await client.getInstallCommands(
          { jsonB64FileList: netplanFiles(ctx) },
          { deadlineMs: 120_000 },
        );
        break;
      } catch (err) {
        // nodeward says "not yet, ask again" with a hint; never sleep past a minute between asks
        const retryMs = Math.min(retryHint(err), 60_000);
        const message = (err as { details?: string }).details ?? "";
        if (retryMs === 0 || Date.now() + retryMs > deadline)
          throw describeGrpcError(err, "GetInstallCommands");
        const why = message.replace(/^NA_CLUSTER_NOT_READY:\s*/, "");
        if (why !== announced && !options.json) ctx.io.err(`waiting: ${why}`);
        announced = why;
        ctx.log.info({ why, retryMs }, "install waits for the cluster");
        await sleep(retryMs, ctx.signal);
      }
    }
    const outcome = await runList(list.commands, options, ctx, client);
    await sendNodelog(
      client,
      { type: "NodeInstallation", severity: 3, message: "Installation completed successfully" },
      ctx.log,
    );
    return { commands: outcome.ran, warnings: outcome.warnings };
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
      .option("--wait <duration>", "how long to wait for the cluster to take this node", "30m")
      .option("--json", "as JSON")
  );
}

export const installCommand: CommandSpec = {
  define: (program) => installGroup(program),
  async run(options, _args, ctx) {
    const vpn = await installWireguard(options, ctx);
    const kubernetes = await installKubernetes(options, ctx);
    return {
      data: { vpn, kubernetes },
      human: `Installation completed: ${vpn.commands + kubernetes.commands} commands, ${vpn.warnings + kubernetes.warnings} warning(s); ${vpn.peers.desired} VPN peer(s); this node is a Kubernetes node.`,
    };
  },
};

export const installKubernetesCommand: CommandSpec = {
  define: (program) =>
    installGroup(program)
      .command("kubernetes")
      .description("Install Kubernetes and join the cluster (after `runos install wireguard`)")
      .option("--wait <duration>", "how long to wait for the cluster to take this node", "30m")
      .option("--json", "as JSON"),
  async run(options, _args, ctx) {
    const result = await installKubernetes(options, ctx);
    return {
      data: result,
      human: `Kubernetes installed: ${result.commands} commands, ${result.warnings} warning(s); this node is Ready.`,
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
