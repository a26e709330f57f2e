import { spawn } from "node:child_process";
import { RunosError } from "../../common/errors.js";

export interface ExecRequest {
  argv: readonly string[];
  timeoutMs: number;
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export interface ExecResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

/** The one place the agent starts processes. Tests swap it for a recording fake. */
export type Exec = (request: ExecRequest) => Promise<ExecResult>;

const maxCapture = 4 * 1024 * 1024;

/**
 * argv only (never a shell string built from input), its own process group so a timeout kills
 * grandchildren too, bounded capture, and an EPIPE from a child that ignores stdin is harmless.
 */
export const execArgv: Exec = (request) =>
  new Promise((resolve, reject) => {
    const [file, ...args] = request.argv;
    if (!file) return reject(new RunosError("NA_INTERNAL", "exec called with an empty argv"));
    const started = Date.now();
    const child = spawn(file, args, {
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      env: request.env ? { ...process.env, ...request.env } : process.env,
      cwd: request.cwd,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (stdout.length < maxCapture) stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < maxCapture) stderr += chunk.toString("utf8");
    });
    child.stdin.on("error", () => {}); // EPIPE when the child exits without reading
    child.stdin.end(request.input ?? "");
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, request.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(
        new RunosError(
          "NA_EXEC_FAILED",
          `${file}: could not start (${(err as NodeJS.ErrnoException).code ?? err.message})`,
          {
            cause: err,
          },
        ),
      );
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout, stderr, durationMs: Date.now() - started, timedOut });
    });
  });

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Throws a readable error unless the command exited 0. */
export function checkExec(result: ExecResult, argv: readonly string[]): ExecResult {
  if (result.exitCode === 0) return result;
  const tool = argv[0] ?? "command";
  const why = result.timedOut ? "timed out" : `exited with ${result.exitCode ?? result.signal}`;
  const tail = result.stderr.trim().split("\n").slice(-3).join(" | ");
  throw new RunosError("NA_EXEC_FAILED", `${tool} ${why}${tail ? `: ${tail}` : ""}`);
}
