// Long-running processes inside a lab host. nsenter and setpriv exec, so the PID we get is the program's.
// `setpriv --pdeathsig KILL` makes each one die with this process, even when it is SIGKILLed (pitfall 13).
import { closeSync, existsSync, openSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { LabHost } from "./paths.js";
import { startProcess } from "./run.js";

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Added to (and overriding) this process's environment. */
  env?: Record<string, string | undefined>;
  /** Working directory inside the host (default: this process's cwd; the checkout is shared). */
  cwd?: string;
  /** stdout+stderr go here (default `/tmp/labhost-NAME/log/<program>.<n>.log`). */
  logFile?: string;
}

export interface LabProcess {
  readonly host: LabHost;
  readonly pid: number;
  readonly argv: readonly string[];
  readonly logFile: string;
  /** Resolves when the process has exited (and been reaped). */
  wait(): Promise<ExitStatus>;
  /** SIGTERM (or `signal`), then SIGKILL after `timeoutMs` (default 3 s). */
  stop(opts?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<ExitStatus>;
  readonly exited: boolean;
}

// Set once a termination signal started the teardown: no new hosts or processes from then on.
let shuttingDown = false;

export function markShuttingDown(): void {
  shuttingDown = true;
}

export function isShuttingDown(): boolean {
  return shuttingDown;
}

// PIDs of running children, for the synchronous best-effort kill on process exit.
const running = new Map<number, LabHost>();
let exitHookInstalled = false;
let logCounter = 0;

/** The environment for commands entering a host: ours, minus what would confuse a nested node. */
export function hostEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT; // set by `node --test` for its children; a nested node would think it is one
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return env;
}

/** `nsenter <host> --wdns=CWD -- setpriv --pdeathsig KILL -- ARGV...` */
export function enterArgv(host: LabHost, argv: readonly string[], cwd: string): string[] {
  if (argv.length === 0) throw new Error("lab: empty argv");
  // --wdns resolves the directory inside the host's mount ns (pitfall 8).
  return ["nsenter", ...host.nsArgs, `--wdns=${cwd}`, "--", "setpriv", "--pdeathsig", "KILL", "--", ...argv];
}

/** Starts a long-running program inside the host; output goes to a log file. */
export function spawnInHost(host: LabHost, argv: readonly string[], opts: SpawnOptions = {}): LabProcess {
  if (shuttingDown) throw new Error("lab: shutting down, not starting new processes");
  logCounter += 1;
  const logFile = opts.logFile ?? `${host.dir}/log/${basename(argv[0] ?? "proc")}.${logCounter}.log`;
  const logFd = openSync(logFile, "a");
  let child: ReturnType<typeof startProcess>;
  try {
    child = startProcess(enterArgv(host, argv, opts.cwd ?? process.cwd()), {
      env: hostEnv(opts.env),
      stdio: ["ignore", logFd, logFd],
      detached: true, // own process group: a Ctrl-C to the harness does not hit it; teardown decides
    });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`lab: could not start ${argv.join(" ")} in ${host.name}`);
  const pidFile = `${host.dir}/pids/${pid}`;
  writeFileSync(pidFile, `${JSON.stringify(argv)}\n`);
  running.set(pid, host);
  installExitHook();

  let status: ExitStatus | null = null;
  const exited = new Promise<ExitStatus>((resolve) => {
    const done = (value: ExitStatus) => {
      if (status) return;
      status = value;
      running.delete(pid);
      if (existsSync(pidFile)) rmSync(pidFile, { force: true });
      resolve(value);
    };
    child.once("exit", (code, signal) => done({ code, signal }));
    child.once("error", () => done({ code: 127, signal: null }));
  });

  const stop = async (
    stopOpts: { signal?: NodeJS.Signals; timeoutMs?: number } = {},
  ): Promise<ExitStatus> => {
    if (status) return status;
    // We are the parent: until we reap it, the PID cannot be reused, so signalling it is safe.
    signal(pid, stopOpts.signal ?? "SIGTERM");
    const timer = setTimeout(() => signal(pid, "SIGKILL"), stopOpts.timeoutMs ?? 3_000);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };

  return {
    host,
    pid,
    argv: [...argv],
    logFile,
    wait: () => exited,
    stop,
    get exited() {
      return status !== null;
    },
  };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** PIDs of the processes this harness started in `host` that are still running. */
export function runningPidsIn(host: LabHost): number[] {
  return [...running].filter(([, h]) => h.name === host.name).map(([pid]) => pid);
}

/** Synchronous last resort: SIGKILL everything we started (pdeathsig does the same a moment later). */
export function killAllSpawnedSync(): void {
  // Each is our unreaped child, so its PID cannot have been reused.
  for (const pid of running.keys()) signal(pid, "SIGKILL");
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", killAllSpawnedSync);
}
