// Finding and ending the processes that live in a lab host's namespaces. There is no PID namespace, so
// PIDs are the VM's; every kill is preceded by a check that the PID is still inside the host (PID reuse).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { type LabHost, mountNsFile, netnsFile, utsNsFile } from "./paths.js";
import { sleep } from "./run.js";
import { vmMounts } from "./state-dir.js";

const POLL_MS = 20;

/** Identities (`dev:ino`) of the host's namespaces that still exist (their files are nsfs mounts). */
export function hostNamespaceIds(host: LabHost): Set<string> {
  const mounts = vmMounts();
  const ids = new Set<string>();
  for (const file of [mountNsFile(host.name), netnsFile(host.name), utsNsFile(host.name)]) {
    // An ns file that is not mounted is an empty placeholder on /run and identifies nothing.
    if (mounts.get(file)?.fstype !== "nsfs") continue;
    const id = nsIdOf(file);
    if (id) ids.add(id);
  }
  return ids;
}

function nsIdOf(path: string): string | null {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/** True when the process is in any of the namespaces (mnt, net or uts). */
export function isInNamespaces(pid: number, ids: ReadonlySet<string>): boolean {
  for (const kind of ["mnt", "net", "uts"]) {
    const id = nsIdOf(`/proc/${pid}/ns/${kind}`);
    if (id && ids.has(id)) return true;
  }
  return false;
}

/** Every live process in the given namespaces (zombies excluded: they already left them). */
export function processesInNamespaces(ids: ReadonlySet<string>): number[] {
  if (ids.size === 0) return [];
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (isInNamespaces(pid, ids) && isAlive(pid)) found.push(pid);
  }
  return found;
}

/** A PID that exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`, each only to PIDs that `stillOurs` confirms (namespace check).
 * Resolves when all are gone or zombies.
 */
export async function terminate(
  pids: Iterable<number>,
  stillOurs: (pid: number) => boolean,
  graceMs = 3_000,
): Promise<number[]> {
  let left = [...new Set(pids)].filter((pid) => isAlive(pid) && stillOurs(pid));
  signalAll(left, "SIGTERM", stillOurs);
  const deadline = Date.now() + graceMs;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(POLL_MS);
    left = left.filter(isAlive);
  }
  if (left.length === 0) return [];
  signalAll(left, "SIGKILL", stillOurs);
  const killDeadline = Date.now() + 2_000;
  while (left.length > 0 && Date.now() < killDeadline) {
    await sleep(POLL_MS);
    left = left.filter(isAlive);
  }
  return left;
}

function signalAll(
  pids: readonly number[],
  signal: NodeJS.Signals,
  stillOurs: (pid: number) => boolean,
): void {
  for (const pid of pids) {
    if (!stillOurs(pid)) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
}
