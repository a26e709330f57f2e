import { spawn } from "node:child_process";

export interface ShellRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved, as a person would have seen them. */
  output: string;
  /** The watchdog killed it after `inactivityMs` without output. */
  hung: boolean;
  timedOut: boolean;
}

export interface ShellOptions {
  /** Kill the process group when no output line arrives for this long (package managers). */
  inactivityMs?: number;
  /** Hard limit for the whole command. */
  timeoutMs: number;
  onLine?(line: string): void;
}

/**
 * Runs ONE line of control-plane-provided shell text with /bin/sh -c. This is the only place
 * shell text runs, and it only ever comes over the authenticated stream (install command lists).
 */
export type Shell = (command: string, options: ShellOptions) => Promise<ShellRun>;

const maxOutput = 1024 * 1024;

export const runShell: Shell = (command, options) =>
  new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    let output = "";
    let pending = "";
    let hung = false;
    let timedOut = false;
    let idle: NodeJS.Timeout | undefined;
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
    };
    const armIdle = () => {
      if (!options.inactivityMs) return;
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => {
        hung = true;
        kill();
      }, options.inactivityMs);
    };
    const onData = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      if (output.length < maxOutput) output += text;
      const lines = (pending + text).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) options.onLine?.(line);
      armIdle();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    armIdle();
    const hard = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(hard);
      if (idle) clearTimeout(idle);
      if (pending) options.onLine?.(pending);
      resolve({ exitCode, signal, output, hung, timedOut });
    };
    child.on("error", (err) => {
      output += `${err.message}\n`;
      finish(127, null);
    });
    child.on("close", finish);
  });
