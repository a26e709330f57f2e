import type { ErrorCode } from "../../common/error-codes.js";
import type { PreflightHost } from "./host.js";

export type Severity = "block" | "warn";

export interface CheckResult {
  name: string;
  status: "pass" | "warn" | "block";
  message: string;
  code?: ErrorCode;
  remedy?: string;
}

export interface PreflightOptions {
  kubernetes: boolean;
  role: "control-plane" | "worker";
  /** The control plane this node talks to (from config or --server); network checks need it. */
  server?: { host: string; l1Port: number; l2Port: number };
}

export interface Check {
  name: string;
  /** Only for a Kubernetes install. */
  kubernetes?: boolean;
  run(
    host: PreflightHost,
    options: PreflightOptions,
    ours: boolean,
  ): Omit<CheckResult, "name"> | Promise<Omit<CheckResult, "name">>;
}

const pass = (message: string) => ({ status: "pass" as const, message });
const block = (message: string, code: ErrorCode, remedy: string) => ({
  status: "block" as const,
  message,
  code,
  remedy,
});
const warn = (message: string, code: ErrorCode, remedy: string) => ({
  status: "warn" as const,
  message,
  code,
  remedy,
});

const rfc1123Label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const genericNames = new Set([
  "localhost",
  "ubuntu",
  "debian",
  "vagrant",
  "raspberrypi",
  "linux",
  "server",
  "node",
]);
const gib = 1024 ** 3;

/** Ports kubeadm's own preflight refuses when taken (recipes 1.7). */
export function portsFor(role: PreflightOptions["role"]): number[] {
  return role === "control-plane" ? [6443, 2379, 2380, 10250, 10257, 10259] : [10250];
}

function overlaps(a: string, prefixA: number, b: string, prefixB: number): boolean {
  const n = (ip: string) => ip.split(".").reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  const prefix = Math.min(prefixA, prefixB);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return (n(a) & mask) === (n(b) & mask);
}

/** The checks in the order they are reported. Every check runs; none stops the others. */
export const checks: Check[] = [
  {
    name: "root",
    run: (host) =>
      host.euid() === 0
        ? pass("running as root")
        : block("runos must run as root", "NA_PERMISSION", "run it with sudo"),
  },
  {
    name: "hostname",
    run(host) {
      const name = (host.read("/proc/sys/kernel/hostname") ?? "").trim();
      if (!rfc1123Label.test(name))
        return block(
          `the hostname "${name}" is not a lowercase RFC 1123 label (it becomes the Kubernetes node name)`,
          "NA_INVALID_INPUT",
          "sudo hostnamectl set-hostname my-node-01",
        );
      if (genericNames.has(name))
        return warn(
          `the hostname "${name}" is generic; nodes need unique names`,
          "NA_INVALID_INPUT",
          "sudo hostnamectl set-hostname my-node-01",
        );
      return pass(`hostname ${name}`);
    },
  },
  {
    name: "machine-id",
    run(host) {
      const id = (host.read("/etc/machine-id") ?? "").trim();
      if (!/^[a-f0-9]{32}$/.test(id) || /^0+$/.test(id))
        return block(
          "/etc/machine-id is missing or not 32 hex characters (cloned machines must get a new one)",
          "NA_INVALID_INPUT",
          "rm -f /etc/machine-id && systemd-machine-id-setup",
        );
      return pass("machine id present");
    },
  },
  {
    name: "resources",
    kubernetes: true,
    run(host, options) {
      const cpus = host.cpuCount();
      const mib = Math.round(host.memoryBytes() / 1024 / 1024);
      if (options.role === "control-plane" && cpus < 2)
        return block(
          `${cpus} CPU; a control plane needs at least 2 (kubeadm refuses fewer)`,
          "NA_HOST_TOO_SMALL",
          "use a machine with 2 or more CPUs",
        );
      if (options.role === "control-plane" && mib < 1700)
        return block(
          `${mib} MiB of memory; a control plane needs at least 1700 MiB`,
          "NA_HOST_TOO_SMALL",
          "use a machine with 2 GiB or more",
        );
      if (mib < 1024)
        return warn(
          `${mib} MiB of memory is tight for a Kubernetes node`,
          "NA_HOST_TOO_SMALL",
          "use 2 GiB or more",
        );
      return pass(`${cpus} CPUs, ${mib} MiB`);
    },
  },
  {
    name: "disk-space",
    kubernetes: true,
    run(host) {
      const free = host.freeBytes("/var/lib");
      if (free === undefined)
        return warn("cannot read free space of /var/lib", "NA_DISK_FULL", "check df -h /var/lib");
      if (free < 3 * gib)
        return block(
          `${(free / gib).toFixed(1)} GiB free on /var/lib; Kubernetes needs at least 3 GiB`,
          "NA_DISK_FULL",
          "free space on /var/lib (df -h, clear old logs and images)",
        );
      if (free < 10 * gib)
        return warn(
          `${(free / gib).toFixed(1)} GiB free on /var/lib; 10 GiB or more is advised`,
          "NA_DISK_FULL",
          "grow the disk",
        );
      return pass(`${(free / gib).toFixed(0)} GiB free on /var/lib`);
    },
  },
  {
    name: "tools",
    kubernetes: true,
    run(host) {
      const missing = ["ip", "mount", "nsenter", "curl", "sha256sum", "tar", "nft"].filter(
        (p) => !host.onPath(p),
      );
      return missing.length
        ? block(
            `missing programs: ${missing.join(", ")}`,
            "NA_NOT_FOUND",
            `install them, e.g. apt-get install iproute2 util-linux curl coreutils tar nftables`,
          )
        : pass("ip, mount, nsenter, curl, sha256sum, tar, nft present");
    },
  },
  {
    name: "sysctls-writable",
    kubernetes: true,
    run: (host) =>
      host.writable("/proc/sys/net/ipv4/ip_forward")
        ? pass("/proc/sys is writable")
        : block(
            "/proc/sys is read-only: Kubernetes cannot turn on IP forwarding",
            "NA_PERMISSION",
            "run on a full VM or a privileged container",
          ),
  },
  {
    name: "cgroups",
    kubernetes: true,
    run(host) {
      if (host.exists("/sys/fs/cgroup/cgroup.controllers")) {
        const controllers = (host.read("/sys/fs/cgroup/cgroup.controllers") ?? "").split(/\s+/);
        const missing = ["cpu", "memory", "pids"].filter((c) => !controllers.includes(c));
        return missing.length
          ? block(
              `cgroup v2 lacks the ${missing.join(", ")} controller(s)`,
              "NA_PERMISSION",
              "enable them (systemd.unified_cgroup_hierarchy=1) and reboot",
            )
          : pass("cgroup v2");
      }
      if (host.exists("/sys/fs/cgroup/memory") && host.exists("/sys/fs/cgroup/cpu"))
        return warn(
          "cgroup v1: Kubernetes 1.35 and later refuse it",
          "NA_PERMISSION",
          "boot with cgroup v2 before upgrading past 1.34",
        );
      return block(
        "no usable cgroup hierarchy under /sys/fs/cgroup",
        "NA_PERMISSION",
        "mount cgroup2 on /sys/fs/cgroup",
      );
    },
  },
  {
    name: "wireguard",
    kubernetes: true,
    run(host) {
      const wg0 = host.ipv4Addresses().find((a) => a.iface === "wg0");
      return wg0
        ? pass(`wg0 ${wg0.address}`)
        : block(
            "wg0 has no IPv4 address: Kubernetes runs over the overlay",
            "NA_NOT_FOUND",
            "run `runos install wireguard` first",
          );
    },
  },
  {
    name: "pod-network",
    kubernetes: true,
    run(host) {
      const clashes = host
        .ipv4Addresses()
        .filter((a) => a.iface !== "lo" && !a.iface.startsWith("runos"))
        .filter(
          (a) =>
            overlaps(a.address, a.prefix, "10.244.0.0", 16) || overlaps(a.address, a.prefix, "10.96.0.0", 12),
        );
      return clashes.length
        ? block(
            `${clashes.map((c) => `${c.iface} ${c.address}/${c.prefix}`).join(", ")} overlaps the pod (10.244.0.0/16) or service (10.96.0.0/12) range`,
            "NA_CONFLICT",
            "move that network elsewhere",
          )
        : pass("pod and service ranges are free");
    },
  },
  {
    name: "ports",
    kubernetes: true,
    run(host, options, ours) {
      if (ours) return pass("ports held by this install (re-run)");
      const busy = portsFor(options.role).filter((p) => host.listeningTcpPorts().has(p));
      return busy.length
        ? block(
            `TCP port(s) ${busy.join(", ")} in use`,
            "NA_CONFLICT",
            "find the owner with `ss -ltnp` and stop it",
          )
        : pass(`ports ${portsFor(options.role).join(", ")} free`);
    },
  },
  {
    name: "existing-kubernetes",
    kubernetes: true,
    run(host, _options, ours) {
      if (ours) return pass("leftovers are this install's own (re-run)");
      const found = [
        ...host
          .list("/etc/kubernetes/manifests")
          .filter((f) => f.endsWith(".yaml"))
          .map((f) => `/etc/kubernetes/manifests/${f}`),
        ...[
          "/etc/kubernetes/admin.conf",
          "/etc/kubernetes/kubelet.conf",
          "/etc/kubernetes/pki/ca.crt",
          "/var/lib/etcd/member",
          "/etc/rancher/k3s",
          "/etc/rancher/rke2",
          "/var/snap/microk8s",
        ].filter((p) => host.exists(p)),
      ];
      return found.length
        ? block(
            `another Kubernetes install is on this machine (${found.join(", ")})`,
            "NA_CONFLICT",
            "remove it first (kubeadm reset -f, or the distribution's uninstaller)",
          )
        : pass("no other Kubernetes install");
    },
  },
  {
    name: "swap",
    kubernetes: true,
    run(host) {
      const lines = (host.read("/proc/swaps") ?? "")
        .trim()
        .split("\n")
        .slice(1)
        .filter((l) => l.trim() !== "");
      return lines.length
        ? warn(
            `swap is on (${lines.length} device(s)); the install turns it off`,
            "NA_GENERIC",
            "nothing to do",
          )
        : pass("swap is off");
    },
  },
  {
    name: "oom-score",
    kubernetes: true,
    run(host) {
      const capBnd = /CapBnd:\s*([0-9a-f]+)/.exec(host.read("/proc/self/status") ?? "")?.[1];
      const has = capBnd !== undefined && (BigInt(`0x${capBnd}`) >> 24n) & 1n;
      return has
        ? pass("CAP_SYS_RESOURCE available")
        : warn(
            "no CAP_SYS_RESOURCE: pods cannot get negative OOM scores; containerd is set to restrict them",
            "NA_PERMISSION",
            "nothing to do, or run on a full VM",
          );
    },
  },
  {
    name: "nodeward-reachable",
    async run(host, options) {
      const server = options.server;
      if (!server?.host) return pass("no control plane configured yet (give --server to check it)");
      const address = await host.resolve(server.host);
      if (!address)
        return block(
          `${server.host} does not resolve`,
          "NA_NET_UNREACH",
          "check /etc/resolv.conf or use the control plane's IP address",
        );
      const results = await Promise.all(
        [server.l1Port, server.l2Port].map(
          async (port) => [port, await host.connect(address, port, 8_000)] as const,
        ),
      );
      const failed = results.filter(([, why]) => why !== "ok");
      return failed.length
        ? block(
            `${server.host} (${address}): ${failed.map(([port, why]) => `TCP ${port} ${why}`).join(", ")}`,
            "NA_UNREACHABLE",
            `allow outbound TCP ${server.l1Port} and ${server.l2Port} to the control plane (nc -vz ${server.host} ${server.l2Port})`,
          )
        : pass(`${server.host} (${address}) answers on TCP ${server.l1Port} and ${server.l2Port}`);
    },
  },
];
