import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { awaitSnapshot } from "./heap-snapshot.js";

const repo = new URL("../../", import.meta.url).pathname;

export interface Ports {
  l1: number;
  l2: number;
  http: number;
}

export interface NodewardProcess {
  readonly pid: number;
  readonly ports: Ports;
  readonly api: string;
  readonly dataDir: string;
  adminToken(): string;
  caPem(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves with how long the shutdown took. */
  stop(graceMs?: number): Promise<number>;
  /** Immediate SIGKILL, for failure paths and the reconnect storm (synchronous, safe in an exit handler). */
  kill(): void;
  /** Resolves once the process has exited, however it ended. */
  readonly exited: Promise<void>;
  /** A heap snapshot (full GC first) written into the diagnostic dir; needs `heapSnapshots`. */
  heapSnapshot(): Promise<string>;
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

/**
 * When a TCP port on loopback first accepts a connection (Date.now()), probing every `everyMs`
 * (each probe is closed at once); undefined if it did not before `until` or `stop()` was called.
 */
export function firstAccept(
  port: number,
  until: number,
  everyMs = 50,
): { at: Promise<number | undefined>; stop(): void } {
  let stopped = false;
  const probe = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
      socket.setTimeout(1_000, () => {
        socket.destroy();
        resolve(false);
      });
    });
  const at = (async () => {
    while (!stopped && Date.now() < until) {
      if (await probe()) return Date.now();
      await sleep(everyMs);
    }
    return undefined;
  })();
  return {
    at,
    stop: () => {
      stopped = true;
    },
  };
}

export interface StartOptions {
  dataDir: string;
  logFile: string;
  logLevel: string;
  /** Where V8 writes diagnostics (CPU profile, heap snapshots). */
  diagnosticDir: string;
  /** Write a V8 CPU profile into diagnosticDir when the process exits cleanly. */
  cpuProf: boolean;
  /** Let heapSnapshot() ask for heap snapshots (SIGUSR2). */
  heapSnapshots: boolean;
  /** Listen on these ports (a restart on the same ports); free loopback ports otherwise. */
  ports?: Ports;
  /** nodeward's `--admit-per-second`; its own default when undefined. */
  admitPerSecond?: number;
  /** Called right after the process was spawned, before it is healthy (to kill it or sample it). */
  onSpawn?(handle: NodewardProcess): void;
}

/**
 * `nodeward serve` as its own process (so /proc shows its RSS and CPU alone), on free loopback
 * ports or the given ones; resolves once /healthz answers. Output goes to logFile.
 */
export async function startNodeward(options: StartOptions): Promise<NodewardProcess> {
  const ports: Ports = options.ports ?? {
    l1: await freePort(),
    l2: await freePort(),
    http: await freePort(),
  };
  const out = openSync(options.logFile, "a");
  const profiling = [
    `--diagnostic-dir=${options.diagnosticDir}`,
    ...(options.cpuProf ? ["--cpu-prof"] : []),
    ...(options.heapSnapshots ? ["--heapsnapshot-signal=SIGUSR2"] : []),
  ];
  // biome-ignore format: one flag and its value per line
  const args = [
    ...profiling,
    join(repo, "bin", "nodeward.js"), "serve",
    "--data-dir", options.dataDir,
    "--host", "localhost",
    "--grpc-host", "127.0.0.1",
    "--l1-port", String(ports.l1),
    "--l2-port", String(ports.l2),
    "--http-port", String(ports.http),
    "--log-level", options.logLevel,
    ...(options.admitPerSecond ? ["--admit-per-second", String(options.admitPerSecond)] : []),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ["ignore", out, out], cwd: repo });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const api = `http://127.0.0.1:${ports.http}`;
  const handle: NodewardProcess = {
    pid: child.pid ?? -1,
    ports,
    api,
    dataDir: options.dataDir,
    exited,
    adminToken: () => readFileSync(join(options.dataDir, "admin.token"), "utf8").trim(),
    caPem: () => readFileSync(join(options.dataDir, "ca.crt"), "utf8"),
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return 0;
      const started = Date.now();
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      return Date.now() - started;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
    async heapSnapshot() {
      if (!options.heapSnapshots) throw new Error("nodeward was started without heap snapshots");
      const known = new Set(readdirSync(options.diagnosticDir));
      child.kill("SIGUSR2");
      return awaitSnapshot(options.diagnosticDir, child.pid ?? -1, known, 120_000);
    },
  };
  options.onSpawn?.(handle);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nodeward exited during start-up; see ${options.logFile}`);
    }
    const healthy = await fetch(`${api}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) return handle;
    await sleep(200);
  }
  handle.kill();
  throw new Error(`nodeward did not answer /healthz within 60 s; see ${options.logFile}`);
}
