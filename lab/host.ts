// Lab hosts: up, down, exec, spawn, and the crash teardown (LABHOSTS.md sections 1-2).
import { existsSync, readdirSync, rmSync } from "node:fs";
import { teardownKubernetesHost } from "./kube-host.js";
import { createHostDirs, createMountNamespace, unmountNsFiles } from "./mount-ns.js";
import { hostNamespaceIds, isInNamespaces, processesInNamespaces, terminate } from "./ns-procs.js";
import {
  globMatcher,
  isValidHostName,
  LAB_PREFIX,
  type LabHost,
  labHost,
  mountNsFile,
  NETNS_DIR,
  netnsFile,
  STATE_DIR,
  TMP_ROOT,
  TOPOLOGY_STATE_SUFFIX,
  utsNsFile,
} from "./paths.js";
import {
  enterArgv,
  hostEnv,
  isShuttingDown,
  type LabProcess,
  runningPidsIn,
  type SpawnOptions,
  spawnInHost,
} from "./process.js";
import { type RunResult, run, runOk } from "./run.js";
import {
  ensureStateDirMounted,
  isStateDirMounted,
  releaseStateDirIfEmpty,
  vmMounts,
  withStateLock,
} from "./state-dir.js";

export type { LabHost } from "./paths.js";
export type { ExitStatus, LabProcess, SpawnOptions } from "./process.js";

export interface UpOptions {
  /** The host's hostname (default: its name). A topology uses the short name, e.g. `a1`. */
  hostname?: string;
}

/** Creates a lab host: netns with `lo` up, persistent mount + uts ns, private dirs. Undone on failure. */
export function upHost(name: string, opts: UpOptions = {}): Promise<LabHost> {
  if (isShuttingDown()) return Promise.reject(new Error(`lab: shutting down, not creating ${name}`));
  const pending = createHost(name, opts);
  inFlightUps.add(pending);
  const forget = () => inFlightUps.delete(pending);
  pending.then(forget, forget);
  return pending;
}

// upHost calls still running in this process; downAll waits for them so it cannot miss a host.
const inFlightUps = new Set<Promise<LabHost>>();

async function createHost(name: string, opts: UpOptions): Promise<LabHost> {
  const host = labHost(name);
  if (hostExists(host))
    throw new Error(`lab: host ${name} already exists (down it, or run \`lab down --all\`)`);
  try {
    for (let created = false; !created; ) {
      await ensureStateDirMounted();
      created = await withStateLock("shared", async () => {
        if (!isStateDirMounted()) return false; // released by a `down --all` in between: mount again
        createHostDirs(host);
        await runOk(["ip", "netns", "add", host.netns]);
        await runOk(["ip", "-n", host.netns, "link", "set", "lo", "up"]);
        await createMountNamespace(host, opts.hostname ?? name);
        return true;
      });
    }
  } catch (error) {
    await downHost(host).catch((teardown: unknown) => {
      process.stderr.write(`lab: cleaning up the failed host ${name}: ${String(teardown)}\n`);
    });
    throw error;
  }
  return host;
}

function hostExists(host: LabHost): boolean {
  return [netnsFile(host.name), mountNsFile(host.name), utsNsFile(host.name), host.dir].some((p) =>
    existsSync(p),
  );
}

/**
 * Removes a lab host. Order matters (pitfall 7): processes (recorded + namespace scan) -> the mount ns
 * (umount its files) -> `ip netns del` -> the directory.
 */
export async function downHost(hostOrName: LabHost | string): Promise<void> {
  const host = typeof hostOrName === "string" ? labHost(hostOrName) : hostOrName;
  const errors: unknown[] = [];
  // Every step runs even when an earlier one failed, so a half-made host goes as far as possible.
  const step = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (error) {
      errors.push(error);
    }
  };
  await step(async () => {
    const ids = hostNamespaceIds(host);
    const candidates = [...recordedPids(host), ...runningPidsIn(host), ...processesInNamespaces(ids)];
    const survivors = await terminate(candidates, (pid) => isInNamespaces(pid, ids));
    if (survivors.length > 0)
      throw new Error(`lab: ${host.name}: PIDs ${survivors.join(", ")} survived SIGKILL`);
  });
  // Pods live in namespaces of their own; they are found by the host's cgroup root instead.
  await step(() => teardownKubernetesHost(host));
  await step(() => unmountNsFiles(host));
  await step(async () => {
    rmSync(mountNsFile(host.name), { force: true });
    rmSync(utsNsFile(host.name), { force: true });
  });
  await step(async () => {
    if (existsSync(netnsFile(host.name))) await runOk(["ip", "netns", "del", host.netns]);
  });
  await step(async () => {
    if (existsSync(host.dir)) await runOk(["rm", "-rf", "--one-file-system", host.dir]);
  });
  if (errors.length > 0)
    throw new AggregateError(errors, `lab: down ${host.name} was incomplete: ${errors.join("; ")}`);
}

function recordedPids(host: LabHost): number[] {
  const dir = `${host.dir}/pids`;
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** Names of every lab host on the VM: union of ns files, `labhost-*` netns and `/tmp/labhost-*` dirs. */
export function listHostNames(): string[] {
  const names = new Set<string>();
  if (existsSync(STATE_DIR)) {
    for (const entry of readdirSync(STATE_DIR)) {
      const match = /^(.+)\.(mnt|uts)$/.exec(entry);
      if (match?.[1]) names.add(match[1]);
    }
  }
  if (existsSync(NETNS_DIR)) {
    for (const entry of readdirSync(NETNS_DIR))
      if (entry.startsWith(LAB_PREFIX)) names.add(entry.slice(LAB_PREFIX.length));
  }
  for (const entry of readdirSync(TMP_ROOT))
    if (entry.startsWith(LAB_PREFIX)) names.add(entry.slice(LAB_PREFIX.length));
  return [...names].filter(isValidHostName).sort();
}

export interface HostStatus {
  name: string;
  netns: boolean;
  mountNs: boolean;
  dir: boolean;
  processes: number[];
}

export function hostStatus(name: string): HostStatus {
  const host = labHost(name);
  const mounts = vmMounts();
  return {
    name,
    netns: existsSync(netnsFile(name)),
    mountNs: mounts.get(mountNsFile(name))?.fstype === "nsfs",
    dir: existsSync(host.dir),
    processes: processesInNamespaces(hostNamespaceIds(host)),
  };
}

/**
 * Crash teardown: downs every lab host whose name matches `glob` (default: all of them; only ever
 * `labhost-*` objects), removes matching topology state files, and releases /run/labhost when empty.
 */
export async function downAll(glob = "*"): Promise<string[]> {
  const matches = globMatcher(glob);
  await Promise.allSettled([...inFlightUps]);
  const names = listHostNames().filter(matches);
  const results = await Promise.allSettled(names.map((name) => downHost(name)));
  if (existsSync(STATE_DIR)) {
    for (const entry of readdirSync(STATE_DIR)) {
      if (
        entry.endsWith(TOPOLOGY_STATE_SUFFIX) &&
        matches(`${entry.slice(0, -TOPOLOGY_STATE_SUFFIX.length)}-`)
      ) {
        rmSync(`${STATE_DIR}/${entry}`, { force: true });
      }
    }
  }
  await releaseStateDirIfEmpty();
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length > 0)
    throw new AggregateError(
      failed.map((r) => r.reason),
      "lab: downAll left hosts behind",
    );
  return names;
}

export interface ExecOptions {
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  /** Working directory inside the host (default: this process's cwd). */
  cwd?: string;
  /** Pass the terminal through (CLI). */
  inherit?: boolean;
}

/** Runs a command inside the host to completion. Never rejects on a non-zero exit. */
export function exec(host: LabHost, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
  return run(enterArgv(host, argv, opts.cwd ?? process.cwd()), {
    timeoutMs: opts.timeoutMs,
    env: hostEnv(opts.env),
    input: opts.input,
    inherit: opts.inherit,
  });
}

/** Like exec, but throws unless the command exits 0; returns stdout. */
export async function execOk(
  host: LabHost,
  argv: readonly string[],
  opts: ExecOptions = {},
): Promise<string> {
  const result = await exec(host, argv, opts);
  if (result.code !== 0) {
    const how = result.timedOut ? "timed out" : `exited ${result.code ?? result.signal}`;
    throw new Error(`lab: in ${host.name}: \`${argv.join(" ")}\` ${how}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Starts a long-running process inside the host (dies with this process). */
export function spawn(host: LabHost, argv: readonly string[], opts: SpawnOptions = {}): LabProcess {
  return spawnInHost(host, argv, opts);
}
