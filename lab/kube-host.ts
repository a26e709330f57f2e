// What a lab host needs to run containerd and a kubelet next to other lab hosts on one kernel
// (shared/lab/KUBERNETES-LAB.md section 4): its own cgroup root in every v1 controller (there is no
// cgroup namespace, so two kubelets would otherwise fight over /kubepods), a kubelet patch that
// points at it, and the host-wide sysctls a kubelet changes saved and put back afterwards.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive } from "./ns-procs.js";
import { LAB_PREFIX, type LabHost } from "./paths.js";
import { sleep } from "./run.js";

const CGROUP_FS = "/sys/fs/cgroup";
/** The v1 hierarchies mounted on these machines (hugetlb, net_cls... are enabled but not mounted). */
const CONTROLLERS = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"];
/** Kernel-wide (not per netns) sysctls a Kubernetes node changes (kubelet with protectKernelDefaults off). */
const KERNEL_SYSCTLS = [
  "vm/overcommit_memory",
  "vm/panic_on_oom",
  "kernel/panic",
  "kernel/panic_on_oops",
  "kernel/keys/root_maxkeys",
  "kernel/keys/root_maxbytes",
  // Not kubelet's, but the install list raises them (kubernetes-recipes 1.3), and they are global.
  "fs/inotify/max_user_instances",
  "fs/inotify/max_user_watches",
];
// Outside STATE_DIR, which is released when the last host goes.
const SAVED_SYSCTLS = "/run/runos-lab-kernel-sysctls.json";
/** Where the product reads kubeadm patches from (docs/kubernetes.md). */
export const KUBEADM_PATCH_DIR = "/etc/runos/kubernetes/patches";

export function cgroupRootOf(host: LabHost): string {
  return `/${LAB_PREFIX}${host.name}`;
}

/** Creates the host's cgroup root and the kubelet patch that uses it. Idempotent. */
export function prepareKubernetesHost(host: LabHost): void {
  saveKernelSysctls();
  const root = cgroupRootOf(host);
  for (const controller of CONTROLLERS) {
    const dir = join(CGROUP_FS, controller, root);
    if (!existsSync(join(CGROUP_FS, controller))) continue;
    mkdirSync(dir, { recursive: true });
    if (controller === "cpuset") {
      // A new cpuset has no CPUs or memory nodes: copy the parent's, or nothing can run in it.
      for (const file of ["cpuset.cpus", "cpuset.mems"])
        writeFileSync(join(dir, file), readFileSync(join(CGROUP_FS, controller, file), "utf8"));
    }
  }
  const patchDir = `${host.dir}/root${KUBEADM_PATCH_DIR}`;
  mkdirSync(patchDir, { recursive: true });
  writeFileSync(
    join(patchDir, "kubeletconfiguration+merge.yaml"),
    [
      "# lab host: several kubelets share one kernel and one cgroup tree",
      `cgroupRoot: ${root}`,
      "imageGCHighThresholdPercent: 100",
      "evictionHard:",
      '  nodefs.available: "0%"',
      '  nodefs.inodesFree: "0%"',
      '  imagefs.available: "0%"',
      "",
    ].join("\n"),
  );
}

/** A cgroup directory and every one below it, deepest first (the order rmdir needs). */
function cgroupTree(top: string): string[] {
  if (!existsSync(top)) return [];
  const dirs: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) walk(join(dir, entry.name));
    dirs.push(dir);
  };
  walk(top);
  return dirs;
}

/** PIDs in the host's cgroup tree: its pods' processes, which live in namespaces of their own. */
export function cgroupPids(host: LabHost): number[] {
  const pids = new Set<number>();
  for (const dir of cgroupTree(join(CGROUP_FS, "pids", cgroupRootOf(host)))) {
    for (const line of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n")) {
      const pid = Number(line);
      if (Number.isInteger(pid) && pid > 0) pids.add(pid);
    }
  }
  return [...pids];
}

/**
 * Ends the host's pods (SIGKILL: they are test workloads) and removes its cgroup root, deepest
 * first. Restores the kernel sysctls once no lab host's cgroup root is left.
 */
export async function teardownKubernetesHost(host: LabHost): Promise<void> {
  const root = cgroupRootOf(host);
  if (!CONTROLLERS.some((c) => existsSync(join(CGROUP_FS, c, root)))) return;
  for (let round = 0; round < 50; round++) {
    const pids = cgroupPids(host).filter(isAlive);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await sleep(100);
  }
  const failures: string[] = [];
  for (const controller of CONTROLLERS) {
    const top = join(CGROUP_FS, controller, root);
    for (const dir of cgroupTree(top)) {
      for (let attempt = 0; ; attempt++) {
        try {
          rmdirSync(dir);
          break;
        } catch (error) {
          if (attempt >= 30) {
            failures.push(`${dir}: ${String(error)}`);
            break;
          }
          await sleep(100); // a killed process leaves its cgroup a moment after it is reaped
        }
      }
    }
  }
  if (!anyLabCgroupRoot()) restoreKernelSysctls();
  if (failures.length > 0) throw new Error(`lab: ${host.name}: cgroups left: ${failures.join("; ")}`);
}

function anyLabCgroupRoot(): boolean {
  return CONTROLLERS.some((c) => {
    const dir = join(CGROUP_FS, c);
    return existsSync(dir) && readdirSync(dir).some((name) => name.startsWith(LAB_PREFIX));
  });
}

function saveKernelSysctls(): void {
  if (existsSync(SAVED_SYSCTLS)) return;
  const values = Object.fromEntries(
    KERNEL_SYSCTLS.map((key) => [key, readFileSync(`/proc/sys/${key}`, "utf8").trim()]),
  );
  writeFileSync(SAVED_SYSCTLS, JSON.stringify(values));
}

function restoreKernelSysctls(): void {
  if (!existsSync(SAVED_SYSCTLS)) return;
  const values = JSON.parse(readFileSync(SAVED_SYSCTLS, "utf8")) as Record<string, string>;
  for (const [key, value] of Object.entries(values)) {
    if (KERNEL_SYSCTLS.includes(key)) writeFileSync(`/proc/sys/${key}`, `${value}\n`);
  }
  rmSync(SAVED_SYSCTLS, { force: true });
}
