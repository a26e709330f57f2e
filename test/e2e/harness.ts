import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = new URL("../../", import.meta.url).pathname;
const started = new Set<ChildProcess>();

// Processes a test started die with it, even when an assertion throws half-way.
process.on("exit", () => {
  for (const child of started) if (child.exitCode === null) child.kill("SIGKILL");
});

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `runos-${prefix}-`));
}

/** A free TCP port on loopback (bind 0, read, release). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  logFile: string;
  log(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  exited(): Promise<number | null>;
}

export function startProcess(
  bin: "runos" | "nodeward",
  args: string[],
  env: Record<string, string>,
  logFile: string,
): Proc {
  const out = openSync(logFile, "a");
  const child = spawn(process.execPath, [join(repo, "bin", `${bin}.js`), ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", out, out],
  });
  started.add(child);
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    pid: child.pid ?? -1,
    logFile,
    log: () => readFileSync(logFile, "utf8"),
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exit;
      clearTimeout(timer);
      started.delete(child);
    },
    exited: () => exit,
  };
}

/** Runs a CLI to completion and returns its exit code and output. */
export function runCli(
  bin: "runos" | "nodeward",
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repo, "bin", `${bin}.js`), ...args], {
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    started.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${bin} ${args.join(" ")} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      started.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Polls until fn returns a truthy value or the time is up. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** A node root for RUNOS_ROOT with its own machine id, as a separate machine would have. */
export function nodeRoot(name: string): string {
  const root = tempDir(`node-${name}`);
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "etc", "machine-id"), `${crypto.randomUUID().replaceAll("-", "")}\n`);
  writeFileSync(join(root, "etc", "os-release"), 'ID=debian\nVERSION_ID="12"\n');
  return root;
}
