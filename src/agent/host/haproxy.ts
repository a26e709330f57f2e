import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import * as z from "zod";
import { writeFileAtomic } from "../../common/atomic-file.js";
import { sleep } from "../../common/clock.js";
import { RunosError } from "../../common/errors.js";
import type { Exec } from "./exec.js";
import {
  type ApiEndpoint,
  backendName,
  defaultBind,
  renderHaproxyConfig,
  serverName,
} from "./haproxy-config.js";
import { alertLines, detectRunner, type HaproxyRunner, type SpawnDaemon } from "./haproxy-process.js";
import { haproxyCommand, type LiveServer, parseServerStateNames, parseShowStat } from "./haproxy-socket.js";
import type { Paths } from "./paths.js";

const DesiredEndpoints = z.object({
  /** Normalised `host:port`, sorted. */
  endpoints: z.array(z.string()),
  /** Where the list came from: push, poll, refresh. */
  source: z.string(),
  updatedAt: z.string(),
  /** False while the last apply of this list failed (the agent retries it). */
  applied: z.boolean(),
  appliedAt: z.string().optional(),
  lastError: z.string().optional(),
});
export type DesiredEndpoints = z.infer<typeof DesiredEndpoints>;

export interface HaproxyApplyResult {
  /** `unchanged`: same config and HAProxy running; nothing was touched. */
  action: "unchanged" | "reloaded" | "started";
  runner: HaproxyRunner["kind"];
  durationMs: number;
}

/** HAProxy on this machine: its config, its process and its runtime state; plus the desired backends on disk. */
export interface HaproxyPort {
  readonly configPath: string;
  /**
   * Renders the config for these servers, validates it with `haproxy -c` before swapping it in,
   * then reloads (or starts) HAProxy and waits until the new backends are live. On a validation
   * failure the previous file stays in place. Never called with an empty list (callers refuse it).
   */
  apply(servers: readonly ApiEndpoint[]): Promise<HaproxyApplyResult>;
  running(): Promise<boolean>;
  /** Live server state from the runtime API; NA_UNREACHABLE when HAProxy is not running. */
  liveServers(): Promise<LiveServer[]>;
  /** The config file's text, undefined when there is none. */
  readConfig(): Promise<string | undefined>;
  loadDesired(): Promise<DesiredEndpoints | undefined>;
  saveDesired(desired: DesiredEndpoints): Promise<void>;
}

export interface HaproxyPortOptions {
  binary?: string;
  /** Default `/etc/haproxy/haproxy.cfg` on the root. */
  configPath?: string;
  /** Default `*:6446`. */
  bind?: string;
  spawnDaemon?: SpawnDaemon;
  /** How long to wait for a new worker and for the new backends to show up. */
  settleMs?: number;
}

export function createHaproxyPort(paths: Paths, exec: Exec, options: HaproxyPortOptions = {}): HaproxyPort {
  const configPath = options.configPath ?? paths.onRoot("/etc/haproxy/haproxy.cfg");
  const runDir = paths.onRoot("/run/haproxy");
  const adminSocket = `${runDir}/admin.sock`;
  const serverStateFile = `${runDir}/server-state`;
  const desiredFile = paths.onRoot("/var/lib/runos/haproxy/endpoints.json");
  const binary = options.binary ?? "haproxy";
  const settleMs = options.settleMs ?? 10_000;
  const processOptions = {
    paths,
    exec,
    binary,
    configPath,
    masterSocket: `${runDir}/master.sock`,
    pidFile: `${runDir}/haproxy.pid`,
    logFile: paths.onRoot("/var/log/runos-haproxy.log"),
    spawnDaemon: options.spawnDaemon,
    settleMs,
  };
  let queue: Promise<unknown> = Promise.resolve();
  /** One apply at a time in this process (a push and a poll may arrive together). */
  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => {});
    return next;
  };

  async function readConfig(): Promise<string | undefined> {
    try {
      return await readFile(configPath, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async function validate(text: string): Promise<void> {
    const candidate = `${configPath}.new`;
    await writeFileAtomic(candidate, text, { mode: 0o600 });
    try {
      const argv = [binary, "-c", "-f", candidate];
      const result = await exec({ argv, timeoutMs: 30_000 });
      if (result.exitCode !== 0) {
        const alerts = alertLines(`${result.stdout}\n${result.stderr}`).join(" | ");
        throw new RunosError(
          "NA_INVALID_INPUT",
          `HAProxy rejected the generated config (kept ${configPath} as it was): ${alerts || `exit ${result.exitCode}`}`,
          { hint: "run `haproxy -c -f` on the file named above; this looks like a bug in runos" },
        );
      }
    } finally {
      await rm(candidate, { force: true });
    }
  }

  /** Health state for the next worker, so a reload during an outage does not re-admit a dead server. */
  async function saveServerState(): Promise<void> {
    try {
      const state = await haproxyCommand(adminSocket, "show servers state", 2_000);
      await writeFileAtomic(serverStateFile, state, { mode: 0o600 });
    } catch {
      // best effort: the new worker then starts from fresh health checks
    }
  }

  const namesOf = (servers: readonly ApiEndpoint[]) => servers.map(serverName).sort().join(",");

  /** The live backend's server names, sorted and joined; empty when HAProxy does not answer. */
  async function liveNames(): Promise<string> {
    try {
      const text = await haproxyCommand(adminSocket, `show servers state ${backendName}`, 2_000);
      return parseServerStateNames(text).sort().join(",");
    } catch {
      return "";
    }
  }

  async function waitForServers(servers: readonly ApiEndpoint[]): Promise<void> {
    const want = namesOf(servers);
    const deadline = Date.now() + settleMs;
    let seen = "";
    while (Date.now() < deadline) {
      seen = await liveNames();
      if (seen === want) return;
      await sleep(50);
    }
    throw new RunosError(
      "NA_TIMEOUT",
      `HAProxy did not show the new backends within ${settleMs} ms (it has: ${seen || "none"})`,
    );
  }

  async function running(): Promise<boolean> {
    return (await detectRunner(processOptions)).running();
  }

  return {
    configPath,
    apply: (servers) =>
      serialised(async () => {
        if (servers.length === 0)
          throw new RunosError("NA_INVALID_INPUT", "refusing an empty HAProxy backend list");
        const started = Date.now();
        const text = renderHaproxyConfig({
          servers,
          bind: options.bind ?? defaultBind,
          adminSocket,
          serverStateFile,
          syslog: existsSync(paths.onRoot("/dev/log")),
        });
        const runner = await detectRunner(processOptions);
        const wasRunning = await runner.running();
        const current = await readConfig();
        const result = (action: HaproxyApplyResult["action"]): HaproxyApplyResult => ({
          action,
          runner: runner.kind,
          durationMs: Date.now() - started,
        });
        // The live servers too: after a reload HAProxy refused, the file is new but the workers are not.
        if (current === text && wasRunning && (await liveNames()) === namesOf(servers)) {
          return result("unchanged");
        }
        if (current !== text) {
          await validate(text);
          await writeFileAtomic(configPath, text, { mode: 0o600, dirMode: 0o755 });
        }
        await mkdir(runDir, { recursive: true, mode: 0o755 }); // sockets and state (tmpfs after a reboot)
        if (wasRunning) {
          await saveServerState();
          await runner.reload();
        } else {
          await rm(serverStateFile, { force: true }); // stale health from an earlier run
          await runner.start();
        }
        await waitForServers(servers);
        return result(wasRunning ? "reloaded" : "started");
      }),
    running,
    async liveServers() {
      return parseShowStat(await haproxyCommand(adminSocket, "show stat", 3_000));
    },
    readConfig,
    async loadDesired() {
      try {
        const parsed = DesiredEndpoints.safeParse(JSON.parse(await readFile(desiredFile, "utf8")));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },
    async saveDesired(desired) {
      await writeFileAtomic(desiredFile, `${JSON.stringify(desired, null, 2)}\n`, {
        mode: 0o600,
        dirMode: 0o700,
      });
    },
  };
}
