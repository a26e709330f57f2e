// The once-per-VM part of the recipe: /run/labhost as a private bind mount of itself, guarded by a
// flock (every `up` holds it shared; removing the directory holds it exclusive).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { LAB_PREFIX, NETNS_DIR, STATE_DIR, TMP_ROOT } from "./paths.js";
import { runOk, startProcess } from "./run.js";

const LOCK_TIMEOUT_S = 60;

/** Runs `fn` while holding a flock on STATE_DIR. The lock dies with us (it is held by a child reading our pipe). */
export async function withStateLock<T>(mode: "shared" | "exclusive", fn: () => Promise<T>): Promise<T> {
  mkdirSync(STATE_DIR, { recursive: true });
  // --no-fork: flock execs sh, which execs cat; the lock lives exactly as long as cat reads our stdin.
  const holder = startProcess(
    [
      "flock",
      `--${mode}`,
      "--no-fork",
      "--timeout",
      String(LOCK_TIMEOUT_S),
      STATE_DIR,
      "sh",
      "-c",
      "echo locked; exec cat",
    ],
    { stdio: ["pipe", "pipe", "pipe"], detached: false },
  );
  const released = new Promise<void>((resolve) => holder.once("close", () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      let stderr = "";
      holder.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      holder.stdout?.once("data", () => resolve());
      holder.once("error", reject);
      holder.once("exit", (code) =>
        reject(new Error(`lab: flock on ${STATE_DIR} failed (exit ${code}) ${stderr}`)),
      );
    });
    return await fn();
  } finally {
    holder.stdin?.end();
    await released;
  }
}

/** Mount points of the VM's mount namespace with their propagation flags. */
export function vmMounts(): Map<string, { shared: boolean; fstype: string }> {
  const mounts = new Map<string, { shared: boolean; fstype: string }>();
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const fields = line.split(" ");
    const target = fields[4];
    if (target === undefined) continue;
    const separator = fields.indexOf("-");
    const optional = fields.slice(6, separator);
    mounts.set(unescapeMountPath(target), {
      shared: optional.some((f) => f.startsWith("shared:")),
      fstype: fields[separator + 1] ?? "",
    });
  }
  return mounts;
}

function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

export function isStateDirMounted(): boolean {
  const mount = vmMounts().get(STATE_DIR);
  return mount !== undefined && !mount.shared;
}

/**
 * Makes STATE_DIR its own mount point with private propagation. Call it without holding the lock: it takes
 * the lock exclusively when it has to mount, so parallel `up`s never stack two bind mounts.
 */
export async function ensureStateDirMounted(): Promise<void> {
  if (isStateDirMounted()) return;
  await withStateLock("exclusive", async () => {
    const mount = vmMounts().get(STATE_DIR);
    if (!mount) await runOk(["mount", "--bind", STATE_DIR, STATE_DIR]);
    if (!mount || mount.shared) await runOk(["mount", "--make-private", STATE_DIR]);
  });
}

/** True when no lab host of any run is left on the VM (ns files, netns or host dirs). */
export function noLabHostsLeft(): boolean {
  const stateEntries = existsSync(STATE_DIR) ? readdirSync(STATE_DIR) : [];
  const netns = existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR).filter((n) => n.startsWith(LAB_PREFIX)) : [];
  const dirs = readdirSync(TMP_ROOT).filter((n) => n.startsWith(LAB_PREFIX));
  return stateEntries.length === 0 && netns.length === 0 && dirs.length === 0;
}

/** Undoes ensureStateDirMounted once nothing of any lab is left. Returns whether it did. */
export async function releaseStateDirIfEmpty(): Promise<boolean> {
  if (!existsSync(STATE_DIR) || !noLabHostsLeft()) return false;
  return withStateLock("exclusive", async () => {
    if (!noLabHostsLeft()) return false; // an `up` got in between
    // A loop, so that binds stacked by an older harness go too.
    while (vmMounts().has(STATE_DIR)) await runOk(["umount", "-l", STATE_DIR]);
    rmdirSync(STATE_DIR);
    return true;
  });
}
