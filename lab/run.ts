// The lab's one place that starts processes. argv only (never a shell string built from input),
// a timeout on every one-shot command, and the whole process group killed when it expires.
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";

export interface RunOptions {
  /** Kill the command's process group after this long (default 30 s). */
  timeoutMs?: number;
  /** Complete environment for the command (default: this process's). */
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Working directory on the VM side (for commands entering a host use `--wdns` instead). */
  cwd?: string;
  /** Pass stdin/stdout/stderr through (interactive CLI use); stdout/stderr are then empty. */
  inherit?: boolean;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export class LabCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    const how = result.timedOut
      ? `timed out after ${result.durationMs} ms`
      : result.signal
        ? `was killed by ${result.signal}`
        : `exited ${result.code}`;
    const tail = result.stderr.trim().split("\n").slice(-5).join("\n");
    super(`lab: \`${shortCommand(argv)}\` ${how}${tail ? `:\n${tail}` : ""}`);
    this.name = "LabCommandError";
  }
}

/** argv for messages: inline scripts are shown by size, not spelled out. */
export function shortCommand(argv: readonly string[]): string {
  return argv.map((a) => (a.includes("\n") ? `<script ${a.length} chars>` : a)).join(" ");
}

const DEFAULT_TIMEOUT_MS = 30_000;
// A grandchild that keeps our pipes open must not hang the caller once the command itself exited.
const PIPE_GRACE_MS = 2_000;

/** Starts a process; the only call to child_process.spawn in lab/. */
export function startProcess(
  argv: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdio: StdioOptions; detached: boolean },
): ChildProcess {
  const [command, ...args] = argv;
  if (!command) throw new Error("lab: empty argv");
  return spawn(command, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: opts.stdio,
    detached: opts.detached,
  });
}

/** Runs a command to completion. Never rejects on a non-zero exit; see runOk. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      // Detached = own process group, so a timeout can kill everything the command started.
      // Interactive use stays in our group so it can read the terminal.
      child = startProcess(argv, {
        env: opts.env,
        cwd: opts.cwd,
        stdio: opts.inherit ? "inherit" : "pipe",
        detached: !opts.inherit,
      });
    } catch (error) {
      resolve(failedToStart(error, started));
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        timedOut,
        durationMs: Date.now() - started,
      });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, !opts.inherit);
    }, timeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
    child.stdin?.on("error", () => {}); // EPIPE when the command does not read its input
    child.stdin?.end(opts.input ?? "");
    child.on("error", (error) => {
      err.push(Buffer.from(String(error.message)));
      finish(127, null);
    });
    child.on("exit", (code, signal) => {
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(code, signal);
      }, PIPE_GRACE_MS).unref();
    });
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => finish(code, signal));
  });
}

/** Like run, but throws LabCommandError unless the command exits 0. */
export async function runOk(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await run(argv, opts);
  if (result.code !== 0) throw new LabCommandError(argv, result);
  return result;
}

function killGroup(child: ChildProcess, ownGroup: boolean): void {
  if (child.pid === undefined) return;
  try {
    process.kill(ownGroup ? -child.pid : child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function failedToStart(error: unknown, started: number): RunResult {
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 127,
    signal: null,
    stdout: "",
    stderr: message,
    timedOut: false,
    durationMs: Date.now() - started,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a truthy value; returns that value. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  opts: { timeoutMs?: number; everyMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`lab: timed out waiting for ${what}`);
    await sleep(opts.everyMs ?? 50);
  }
}
