import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { Shell, ShellRun } from "../host/shell.js";
import { type Classification, classifyFailure } from "./classify.js";
import { redactSecrets } from "./redact.js";

export interface InstallCommand {
  command: string;
  ignoreFailure: boolean;
}

/** Where progress goes: the terminal, and the control plane (status and node logs). */
export interface InstallReporter {
  step(index: number, total: number, command: string): void;
  status(text: string): Promise<void>;
  progress(percent: number): void;
  warning(text: string): Promise<void>;
  failure(entry: { severity: 1 | 2; message: string; classification: Classification }): Promise<void>;
}

export interface InstallOutcome {
  ok: boolean;
  ran: number;
  warnings: number;
  failedStep?: string;
  classification?: Classification;
  detail?: string;
}

const packageManager = /apt-get|\bapt\b|dpkg|\byum\b|\bdnf\b/i;
const supportLine =
  "If this looks like a runos bug rather than a problem with this machine, report it with this output.";

/**
 * Runs a control plane's install list strictly in order (spec 7.4): STATUS_UPDATE and
 * PROGRESS_UPDATE lines are markers, NODELOG_WARN: output lines become warnings, package managers
 * get an inactivity watchdog with retries on hangs only, failures are classified into NA_* codes.
 */
export async function runInstallList(
  commands: InstallCommand[],
  deps: { shell: Shell; reporter: InstallReporter; log: Logger },
): Promise<InstallOutcome> {
  let warnings = 0;
  let ran = 0;
  for (const [index, item] of commands.entries()) {
    const command = item.command.trim();
    const status = /^echo\s+STATUS_UPDATE:(.*)$/.exec(command);
    if (status) {
      await deps.reporter.status((status[1] ?? "").trim());
      continue;
    }
    const progress = /^echo\s+PROGRESS_UPDATE:\s*(-?\d+)%?\s*$/.exec(command);
    if (progress) {
      deps.reporter.progress(Math.max(0, Math.min(100, Number(progress[1]))));
      continue;
    }
    const shown = redactSecrets(command);
    deps.reporter.step(index, commands.length, shown);
    deps.log.info({ command: shown, phase: "NODE_INSTALLATION" }, "running install command");
    const run = await runWithWatchdog(command, item.ignoreFailure, deps.shell, async (line) => {
      const warn = /^\s*NODELOG_WARN:(.*)$/.exec(line);
      if (warn) {
        warnings += 1;
        await deps.reporter.warning((warn[1] ?? "").trim());
      }
    });
    ran += 1;
    if (run.exitCode === 0 && !run.hung && !run.timedOut) continue;

    const why = run.hung
      ? `command hung (no output for ${item.ignoreFailure ? 60 : 120} s)`
      : run.timedOut
        ? "command timed out"
        : run.signal
          ? `killed by signal ${run.signal}`
          : `exit status ${run.exitCode}`;
    const detail = `Command failed: ${shown}\nError: ${why}\nOutput: ${redactSecrets(run.output).slice(-4000)}`;
    deps.log.warn(
      { command: shown, error: why, output: redactSecrets(run.output).slice(-4000) },
      "install command failed",
    );
    const classification = classifyFailure(shown, run.output);
    const message = `${classification.cause}\n\nTry: ${classification.remedy}\n\n${supportLine}`;
    if (item.ignoreFailure) {
      warnings += 1;
      await deps.reporter.failure({ severity: 2, message, classification });
      continue;
    }
    await deps.reporter.status("INSTALL_ERROR");
    await deps.reporter.failure({ severity: 1, message, classification });
    return { ok: false, ran, warnings, failedStep: shown, classification, detail };
  }
  deps.reporter.progress(100);
  return { ok: true, ran, warnings };
}

async function runWithWatchdog(
  command: string,
  ignoreFailure: boolean,
  shell: Shell,
  onLine: (line: string) => Promise<void>,
): Promise<ShellRun> {
  const watched = packageManager.test(command);
  const attempts = watched ? (ignoreFailure ? 1 : 3) : 1;
  let last: ShellRun | undefined;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const lines: Promise<void>[] = [];
    last = await shell(command, {
      inactivityMs: watched ? (ignoreFailure ? 60_000 : 120_000) : undefined,
      // Not a package manager: no inactivity limit, but never forever.
      timeoutMs: 60 * 60_000,
      onLine: (line) => lines.push(onLine(line).catch((err) => void errorMessage(err))),
    });
    await Promise.all(lines);
    if (!last.hung) break; // only hangs are retried
  }
  return last as ShellRun;
}
