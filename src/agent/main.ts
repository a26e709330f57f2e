import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { Command, CommanderError } from "commander";
import { pino } from "pino";
import { isRunosError, RunosError, toRunosError } from "../common/errors.js";
import { createLogger, type Logger } from "../common/log.js";
import { agentCommand } from "./cli/agent.js";
import { certificateRenewCommand, certificateStatusCommand } from "./cli/certificate.js";
import type { CommandSpec } from "./cli/command.js";
import { etcdListCommand, etcdRemoveCommand } from "./cli/etcd.js";
import {
  installCommand,
  installKubernetesCommand,
  installWireguardCommand,
  syncVpnCommand,
} from "./cli/install.js";
import { failureBlock, type Io, jsonError, processIo } from "./cli/io.js";
import { kubeproxyListCommand, kubeproxyRefreshCommand } from "./cli/kubeproxy.js";
import { logsCommand } from "./cli/logs.js";
import { preflightCommand } from "./cli/preflight.js";
import { registerCommand } from "./cli/register.js";
import {
  serviceRestartCommand,
  serviceStartCommand,
  serviceStatusCommand,
  serviceStopCommand,
  serviceSuperviseCommand,
} from "./cli/service.js";
import { setConfigCommand } from "./cli/set-config.js";
import { statusCommand } from "./cli/status.js";
import { testCommand } from "./cli/test.js";
import { versionCommand } from "./cli/version.js";
import { createPaths, type Paths } from "./host/paths.js";
import { agentVersion } from "./version.js";

const commands: CommandSpec[] = [
  versionCommand,
  registerCommand,
  installCommand,
  installWireguardCommand,
  installKubernetesCommand,
  agentCommand,
  syncVpnCommand,
  testCommand,
  etcdListCommand,
  etcdRemoveCommand,
  kubeproxyListCommand,
  kubeproxyRefreshCommand,
  setConfigCommand,
  certificateStatusCommand,
  certificateRenewCommand,
  statusCommand,
  logsCommand,
  preflightCommand,
  serviceStartCommand,
  serviceRestartCommand,
  serviceStopCommand,
  serviceStatusCommand,
  serviceSuperviseCommand,
];

/** Exit codes: 0 success, 1 any failure (usage errors included), as the original agent. */
export async function main(
  argv: string[],
  io: Io = processIo(),
  paths: Paths = createPaths(),
): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, stop);
  const log = openLog(paths);
  let exitCode = 0;
  let json = argv.includes("--json");
  const program = new Command("runos")
    .description("The runos node agent")
    .version(`runos ${agentVersion}`, "-v, --version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: () => {} })
    .showHelpAfterError(false);
  for (const spec of commands) {
    spec.define(program).action(async (...actionArgs: unknown[]) => {
      const command = actionArgs[actionArgs.length - 1] as Command;
      const options = command.opts();
      json = Boolean(options.json);
      const positional = actionArgs.slice(0, -2).map(String);
      const output = await spec.run(options, positional, { paths, log, io, signal: controller.signal });
      if (!spec.streaming) {
        if (json) io.out(JSON.stringify(output.data, null, 2));
        else if (output.human) io.out(output.human);
      }
      exitCode = output.exitCode ?? 0;
    });
  }
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      const usage = new RunosError("NA_USAGE", err.message.replace(/^error: /, ""), {
        hint: "see `runos --help`",
      });
      io.err(json ? jsonError(usage) : failureBlock(io, usage, paths.logFile));
      return 1;
    }
    const failure = toRunosError(err);
    log.error({ code: failure.code, err: failure.message, hint: failure.hint }, "command failed");
    if (json) io.out(jsonError(failure));
    else io.err(failureBlock(io, failure, paths.logFile));
    return 1;
  } finally {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeListener(signal, stop);
    log.flush?.();
  }
  return exitCode;
}

/** Every runos process appends JSON lines to the 0600 log file, or to stderr if it cannot. */
function openLog(paths: Paths): Logger {
  const level = process.env.RUNOS_LOG_LEVEL;
  try {
    mkdirSync(dirname(paths.logFile), { recursive: true, mode: 0o700 });
    closeSync(openSync(paths.logFile, "a", 0o600));
    chmodSync(paths.logFile, 0o600);
    return createLogger({
      level,
      destination: pino.destination({ dest: paths.logFile, append: true, sync: true }),
    });
  } catch {
    return createLogger({ level });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${isRunosError(err) ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
