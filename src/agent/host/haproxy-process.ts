import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { sleep } from "../../common/clock.js";
import { RunosError } from "../../common/errors.js";
import { checkExec, type Exec } from "./exec.js";
import { haproxyCommand, type MasterState, parseShowProc } from "./haproxy-socket.js";
import type { Paths } from "./paths.js";

/** Who runs HAProxy on this machine, and how it is started and reloaded without dropping connections. */
export interface HaproxyRunner {
  readonly kind: "systemd" | "agent";
  running(): Promise<boolean>;
  start(): Promise<void>;
  reload(): Promise<void>;
}

/** Starts a long-lived process outside the caller's process group; resolves `exited` when it ends. */
export type SpawnDaemon = (
  argv: readonly string[],
  logFile: string,
) => { pid: number; exited: Promise<{ code: number | null; error?: string }> };

export interface HaproxyProcessOptions {
  paths: Paths;
  exec: Exec;
  binary: string;
  configPath: string;
  masterSocket: string;
  pidFile: string;
  logFile: string;
  spawnDaemon?: SpawnDaemon;
  /** The CLI socket client (tests pass a fake). */
  command?: typeof haproxyCommand;
  /** How long a start or reload may take to show a new worker. */
  settleMs?: number;
}

const unit = "haproxy.service";

/**
 * systemd when it is PID 1 (`/run/systemd/system`) and knows the haproxy unit (the Debian package
 * ships one); otherwise the agent runs HAProxy itself in master-worker mode.
 */
export async function detectRunner(options: HaproxyProcessOptions): Promise<HaproxyRunner> {
  if (existsSync(options.paths.onRoot("/run/systemd/system"))) {
    const probe = await options
      .exec({ argv: ["systemctl", "show", "--property=LoadState", "--value", unit], timeoutMs: 10_000 })
      .catch(() => undefined);
    if (probe?.exitCode === 0 && probe.stdout.trim() === "loaded") return systemdRunner(options.exec);
  }
  return agentRunner(options);
}

/** `systemctl reload` runs the unit's ExecReload (Debian: `haproxy -c`, then SIGUSR2 to the master). */
export function systemdRunner(exec: Exec): HaproxyRunner {
  const systemctl = async (...args: string[]) => {
    const argv = ["systemctl", ...args, unit];
    return checkExec(await exec({ argv, timeoutMs: 30_000 }), argv);
  };
  return {
    kind: "systemd",
    async running() {
      const result = await exec({ argv: ["systemctl", "is-active", "--quiet", unit], timeoutMs: 10_000 });
      return result.exitCode === 0;
    },
    start: async () => void (await systemctl("start")),
    reload: async () => void (await systemctl("reload")),
  };
}

/**
 * HAProxy as `haproxy -W -S master.sock -f cfg`, detached from the agent (own session, no
 * parent-death signal, stdio to a log file): it keeps serving while the agent restarts, and any
 * runos process finds it again through the master socket. Reloads go through the master CLI,
 * which re-executes the master with the new config and hands the listening sockets to the new
 * worker; the old worker finishes its connections.
 */
export function agentRunner(options: HaproxyProcessOptions): HaproxyRunner {
  const command = options.command ?? haproxyCommand;
  const settleMs = options.settleMs ?? 10_000;
  const showProc = async (): Promise<MasterState> => {
    const state = parseShowProc(await command(options.masterSocket, "show proc", 2_000));
    if (!state) throw new RunosError("NA_EXEC_FAILED", "HAProxy master answered `show proc` unexpectedly");
    return state;
  };
  const logTail = (from = 0) => alertTail(options.logFile, from);

  return {
    kind: "agent",
    async running() {
      try {
        return (await showProc()).workers.length > 0;
      } catch {
        return false;
      }
    },
    async start() {
      await mkdir(dirname(options.masterSocket), { recursive: true, mode: 0o755 });
      const argv = [
        options.binary,
        "-W",
        "-S",
        `${options.masterSocket},mode,600`,
        "-f",
        options.configPath,
        "-p",
        options.pidFile,
      ];
      const logOffset = fileSize(options.logFile);
      const daemon = (options.spawnDaemon ?? spawnDetached)(argv, options.logFile);
      let exit: { code: number | null; error?: string } | undefined;
      void daemon.exited.then((e) => {
        exit = e;
      });
      const deadline = Date.now() + settleMs;
      while (Date.now() < deadline) {
        if (exit) {
          const why = exit.error ?? `exited with ${exit.code}`;
          throw new RunosError(
            "NA_EXEC_FAILED",
            `HAProxy did not start (${why})${await logTail(logOffset)}`,
            {
              hint: `see ${options.logFile}`,
            },
          );
        }
        const state = await showProc().catch(() => undefined);
        if (state && state.workers.length > 0) return;
        await sleep(50);
      }
      throw new RunosError("NA_TIMEOUT", `HAProxy started but no worker came up within ${settleMs} ms`, {
        hint: `see ${options.logFile}`,
      });
    },
    async reload() {
      const before = await showProc();
      const logOffset = fileSize(options.logFile);
      // The master re-executes itself; the connection may end abruptly, which is fine.
      await command(options.masterSocket, "reload", 5_000).catch(() => "");
      const deadline = Date.now() + settleMs;
      while (Date.now() < deadline) {
        const now = await showProc().catch(() => undefined);
        if (now && now.reloads > before.reloads) {
          if (now.failedReloads > before.failedReloads) {
            throw new RunosError(
              "NA_EXEC_FAILED",
              `HAProxy refused to reload; the previous workers keep serving${await logTail(logOffset)}`,
              { hint: `see ${options.logFile}` },
            );
          }
          if (now.workers.some((pid) => !before.workers.includes(pid))) return;
        }
        await sleep(50);
      }
      throw new RunosError("NA_TIMEOUT", `HAProxy did not finish its reload within ${settleMs} ms`, {
        hint: `see ${options.logFile}`,
      });
    },
  };
}

const maxLogBytes = 1024 * 1024;

/** The real SpawnDaemon: `detached` = own session and process group; the agent does not wait for it. */
export const spawnDetached: SpawnDaemon = (argv, logFile) => {
  mkdirSync(dirname(logFile), { recursive: true, mode: 0o755 });
  try {
    if (statSync(logFile).size > maxLogBytes) renameSync(logFile, `${logFile}.1`);
  } catch {
    // no log yet
  }
  const fd = openSync(logFile, "a", 0o600);
  try {
    const [file, ...args] = argv;
    const child = spawn(file ?? "haproxy", args, { detached: true, stdio: ["ignore", fd, fd] });
    const exited = new Promise<{ code: number | null; error?: string }>((resolve) => {
      child.on("exit", (code) => resolve({ code }));
      child.on("error", (err: NodeJS.ErrnoException) =>
        resolve({ code: null, error: err.code ?? err.message }),
      );
    });
    child.unref();
    return { pid: child.pid ?? -1, exited };
  } finally {
    closeSync(fd);
  }
};

/** HAProxy's ALERT lines without their prefix, minus the "errors found" summaries: the causes. */
export function alertLines(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.includes("[ALERT]") && !/(Error\(s\)|Fatal errors) found/.test(l))
    .map((l) => l.replace(/^.*\[ALERT\]\s+\(\d+\)\s+:\s*(config\s*:\s*)?/, "").trim())
    .slice(0, 3);
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The last ALERT lines HAProxy wrote to its log after `from`, as `: a | b` (empty when none). */
async function alertTail(logFile: string, from: number): Promise<string> {
  try {
    const handle = await open(logFile, "r");
    try {
      const { size } = await handle.stat();
      const start = Math.max(from > size ? 0 : from, size - 8_192, 0);
      const length = size - start;
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, start);
      const alerts = alertLines(buffer.toString("utf8"));
      return alerts.length ? `: ${alerts.join(" | ")}` : "";
    } finally {
      await handle.close();
    }
  } catch {
    return "";
  }
}
