// Names and paths of a lab host (LABHOSTS.md section 1). Pure data, no side effects.
import { posix } from "node:path";

/** Every lab object on the VM carries this prefix, and teardown never touches anything without it. */
export const LAB_PREFIX = "labhost-";
/** Holds the mount-ns and uts-ns files; a private bind mount of itself (pitfall 1). */
export const STATE_DIR = "/run/labhost";
export const NETNS_DIR = "/run/netns";
export const TMP_ROOT = "/tmp";
/** Per-host private directories bound over the host's view of these paths. */
export const PRIVATE_PATHS = [
  "/etc/runos",
  "/etc/wireguard",
  "/var/lib/runos",
  "/var/log",
  "/run",
  // What a Kubernetes node writes outside /etc and /var/lib's overlays, or must not keep on an
  // overlay (containerd's snapshots, kubelet's volumes): private plain directories.
  "/etc/kubernetes",
  "/etc/containerd",
  "/etc/cni",
  "/var/lib/kubelet",
  "/var/lib/containerd",
  "/var/lib/etcd",
  "/var/lib/cni",
  "/usr/local/bin",
  "/opt",
  "/root/.kube",
] as const;

const HOST_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** A lab host as data: safe to serialise into the lab state file. */
export interface LabHost {
  /** Unique on the VM, e.g. `lab-a1`. */
  readonly name: string;
  /** `labhost-NAME`, for `ip -n`. */
  readonly netns: string;
  /** `/tmp/labhost-NAME`: private dirs, overlay uppers, pid files, logs. */
  readonly dir: string;
  /** `--net=... --mount=... --uts=...` for nsenter. */
  readonly nsArgs: readonly string[];
}

export function isValidHostName(name: string): boolean {
  return HOST_NAME.test(name);
}

export function labHost(name: string): LabHost {
  if (!isValidHostName(name)) {
    throw new Error(`lab: invalid host name ${JSON.stringify(name)} (want [a-z0-9][a-z0-9-]{0,31})`);
  }
  return {
    name,
    netns: `${LAB_PREFIX}${name}`,
    dir: `${TMP_ROOT}/${LAB_PREFIX}${name}`,
    nsArgs: [`--net=${netnsFile(name)}`, `--mount=${mountNsFile(name)}`, `--uts=${utsNsFile(name)}`],
  };
}

/** Files in STATE_DIR named `<prefix>.topology.json` record the running topology of that prefix. */
export const TOPOLOGY_STATE_SUFFIX = ".topology.json";

export function topologyStateFile(prefix: string): string {
  return `${STATE_DIR}/${prefix}${TOPOLOGY_STATE_SUFFIX}`;
}

export function netnsFile(name: string): string {
  return `${NETNS_DIR}/${LAB_PREFIX}${name}`;
}

export function mountNsFile(name: string): string {
  return `${STATE_DIR}/${name}.mnt`;
}

export function utsNsFile(name: string): string {
  return `${STATE_DIR}/${name}.uts`;
}

/**
 * Where the VM sees a path that is private to the host, e.g.
 * `/run/wireguard/wg0.sock` -> `/tmp/labhost-NAME/root/run/wireguard/wg0.sock`.
 * Only the PRIVATE_PATHS are reachable this way (the /etc and /var/lib overlays are not).
 */
export function hostPath(host: LabHost, path: string): string {
  const normal = posix.normalize(path);
  const inside = PRIVATE_PATHS.some((p) => normal === p || normal.startsWith(`${p}/`));
  if (!posix.isAbsolute(normal) || !inside) {
    throw new Error(`lab: ${path} is not under a host-private path (${PRIVATE_PATHS.join(", ")})`);
  }
  return `${host.dir}/root${normal}`;
}

/** Turns a simple glob (`*` only, e.g. `t123-*`) into a matcher for host names. */
export function globMatcher(glob: string): (name: string) => boolean {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  const pattern = new RegExp(`^${escaped}$`);
  return (name) => pattern.test(name);
}
