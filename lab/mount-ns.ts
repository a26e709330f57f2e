// Creating a host's persistent mount + uts namespaces inside its netns (LABHOSTS.md section 2, "up").
import { randomBytes } from "node:crypto";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { type LabHost, mountNsFile, netnsFile, PRIVATE_PATHS, utsNsFile } from "./paths.js";
import { LabCommandError, run, runOk } from "./run.js";
import { vmMounts } from "./state-dir.js";

// Runs inside the new namespaces. A constant script: the host name and directory arrive as $1/$2/$3,
// never spliced into the text. Order and flags are the recipe's.
const SETUP_SCRIPT = `set -eu
hostname "$1"
D="$2"
# Drop the copied nsfs mounts (other hosts' /run/netns/*, *.uts): they would pin those namespaces
# (pitfall 6). /run is replaced below, so nothing of the VM's /run may linger underneath (pitfall 4).
# On a shared tmpfs /run, copies are stacked and shadow each other: a mount becomes reachable by path
# only once what covers it is gone, so repeat (/run itself included) until nothing is left.
for _ in $(seq 16); do
  findmnt -rn -t nsfs -o TARGET | sort -ru | xargs -r -n1 umount -l 2>/dev/null || true
  findmnt -rn -o TARGET | { grep -E '^/run(/|$)' || true; } | sort -ru | xargs -r -n1 umount -l 2>/dev/null || true
  findmnt -rn -t nsfs >/dev/null || findmnt -rn -o TARGET | grep -qE '^/run(/|$)' || break
done
if findmnt -rn -t nsfs >/dev/null; then
  echo "labhost-setup: nsfs mounts are left:" >&2; findmnt -rn -t nsfs >&2; exit 1
fi
# a fresh sysfs for this netns, with the VM's cgroup tree moved back in (pitfall 5)
mount --rbind /sys/fs/cgroup "$D/.cgroup"
umount -l /sys
mount -t sysfs -o nosuid,nodev,noexec "$3" /sys
mount --move "$D/.cgroup" /sys/fs/cgroup
# copy-on-write /etc and /var/lib: the VM's files read through, writes stay in this host
mount -t overlay "$3" -o "lowerdir=/etc,upperdir=$D/ov/etc/upper,workdir=$D/ov/etc/work" /etc
mount -t overlay "$3" -o "lowerdir=/var/lib,upperdir=$D/ov/var-lib/upper,workdir=$D/ov/var-lib/work" /var/lib
shift 3
for p in "$@"; do mkdir -p "$p"; mount --bind "$D/root$p" "$p"; done
`;

// Binding the new mount-ns file can fail with EINVAL by chance from a nested mount ns (pitfall 2).
const EINVAL_RETRIES = 30;

/** Lays out /tmp/labhost-NAME (private dirs, overlay uppers, pids, logs). */
export function createHostDirs(host: LabHost): void {
  const d = host.dir;
  for (const sub of [
    "pids",
    "log",
    ".cgroup",
    "ov/etc/upper",
    "ov/etc/work",
    "ov/var-lib/upper",
    "ov/var-lib/work",
  ]) {
    mkdirSync(`${d}/${sub}`, { recursive: true });
  }
  for (const p of PRIVATE_PATHS) mkdirSync(`${d}/root${p}`, { recursive: true });
  mkdirSync(`${d}/root/etc/wireguard`, { recursive: true, mode: 0o700 });
  mkdirSync(`${d}/root/run/lock`, { recursive: true, mode: 0o1777 });
  symlinkSync("/dev/shm", `${d}/root/run/shm`);
  writeMachineId(host, newMachineId());
}

/** A random machine id as systemd makes one: 128 bits, UUID v4 version/variant bits, 32 lowercase hex. */
export function newMachineId(): string {
  const id = randomBytes(16);
  id[6] = ((id[6] ?? 0) & 0x0f) | 0x40;
  id[8] = ((id[8] ?? 0) & 0x3f) | 0x80;
  return id.toString("hex");
}

/**
 * Gives the host its own `/etc/machine-id` (and D-Bus's copy in `/var/lib/dbus`), else every host reads
 * the VM's through the overlays. Written into the overlay upper dirs before the overlays are mounted,
 * which is allowed (pitfall 10 only forbids writing them while mounted).
 */
function writeMachineId(host: LabHost, id: string): void {
  const d = host.dir;
  mkdirSync(`${d}/ov/var-lib/upper/dbus`, { recursive: true });
  for (const file of [`${d}/ov/etc/upper/machine-id`, `${d}/ov/var-lib/upper/dbus/machine-id`])
    writeFileSync(file, `${id}\n`, { mode: 0o444 });
}

/** Creates the persistent mount and uts namespaces of the host and runs the setup inside them. */
export async function createMountNamespace(host: LabHost, hostname: string): Promise<void> {
  const argv = [
    "nsenter",
    `--net=${netnsFile(host.name)}`,
    "--",
    "unshare",
    `--mount=${mountNsFile(host.name)}`,
    `--uts=${utsNsFile(host.name)}`,
    "--propagation",
    "private",
    "sh",
    "-c",
    SETUP_SCRIPT,
    "labhost-setup",
    hostname,
    host.dir,
    host.netns,
    ...PRIVATE_PATHS,
  ];
  for (let attempt = 1; ; attempt++) {
    // The ns files must exist before unshare binds onto them (pitfall 1: else ENOENT).
    writeFileSync(mountNsFile(host.name), "");
    writeFileSync(utsNsFile(host.name), "");
    const result = await run(argv, { timeoutMs: 20_000 });
    if (result.code === 0) return;
    if (!isRandomEinval(result.stderr) || attempt >= EINVAL_RETRIES) throw new LabCommandError(argv, result);
    // unshare ran nothing; it may have left the uts file mounted. Undo and try again.
    if (process.env.LAB_DEBUG)
      process.stderr.write(`lab: ${host.name}: EINVAL binding its mount ns, retry ${attempt}\n`);
    await unmountNsFiles(host);
  }
}

function isRandomEinval(stderr: string): boolean {
  return /mount \/proc\/\d+\/ns\/\w+ on .* failed: Invalid argument/.test(stderr);
}

/** Drops the VM's references to the host's mount and uts namespaces. */
export async function unmountNsFiles(host: LabHost): Promise<void> {
  const mounts = vmMounts();
  for (const file of [mountNsFile(host.name), utsNsFile(host.name)]) {
    if (mounts.has(file)) await runOk(["umount", file], { timeoutMs: 10_000 });
  }
}
