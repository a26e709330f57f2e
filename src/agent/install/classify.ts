import { type ErrorCode, isErrorCode } from "../../common/error-codes.js";

export interface Classification {
  code: ErrorCode;
  cause: string;
  remedy: string;
}

/** Buckets in the original's order; first match on the OUTPUT wins (spec section 10). */
const buckets: { code: ErrorCode; signatures: string[]; cause: string; remedy: string }[] = [
  // Ours first: these texts come from runos' own install steps and are exact.
  {
    code: "NA_CHECKSUM",
    signatures: ["runos: checksum mismatch"],
    cause:
      "A file downloaded from nodeward's Kubernetes bundle does not match its sha256; it was deleted and not used.",
    remedy: "Re-import the bundle on nodeward (`nodeward bundle import DIR`) and run the install again.",
  },
  {
    code: "NA_UNREACHABLE",
    signatures: ["the api load balancer on 127.0.0.1:6446", "dial tcp 127.0.0.1:6446"],
    cause:
      "The node-local Kubernetes API load balancer (HAProxy on 127.0.0.1:6446) did not forward to a control plane.",
    remedy:
      "Check `runos kubeproxy list` and that a control plane's API answers on its wg0 address, then retry.",
  },
  {
    code: "NA_APT_LOCK",
    signatures: [
      "could not get lock",
      "dpkg frontend lock",
      "unable to acquire the dpkg",
      "unable to lock the administration directory",
      "unable to lock directory",
    ],
    cause: "Another package manager (apt, dpkg or unattended-upgrades) holds the system package lock.",
    remedy:
      "Wait for it to finish (find it with `sudo lsof /var/lib/dpkg/lock-frontend`) and retry; disabling unattended-upgrades during the install helps.",
  },
  {
    code: "NA_DISK_FULL",
    signatures: ["no space left on device", "write error: no space"],
    cause: "The node ran out of disk space.",
    remedy: "Free disk space (`df -h`, clear /var/cache/apt and old logs) and retry.",
  },
  {
    code: "NA_NET_UNREACH",
    signatures: [
      "temporary failure resolving",
      "could not resolve host",
      "name or service not known",
      "connection timed out",
      "failed to connect",
      "network is unreachable",
      "no route to host",
    ],
    cause: "The node could not reach the network (DNS or an outbound connection failed).",
    remedy: "Check DNS and outbound connectivity, firewall and proxy allow-lists, then retry.",
  },
  {
    code: "NA_PKG_NOTFOUND",
    signatures: [
      "unable to locate package",
      "has no installation candidate",
      "was not found",
      "no candidate version",
    ],
    cause: "A required package or version is not available from the configured repositories.",
    remedy: "Run `sudo apt-get update`, confirm the repositories and OS version, and retry.",
  },
  {
    code: "NA_HELD_PKGS",
    signatures: [
      "held packages",
      "held broken packages",
      "broken packages",
      "unmet dependencies",
      "following packages have unmet dependencies",
    ],
    cause: "Held, broken or conflicting packages block the install.",
    remedy: "Run `sudo apt-get -f install` and `sudo apt-mark showhold`, resolve the conflict, and retry.",
  },
  {
    code: "NA_PERMISSION",
    signatures: ["permission denied", "operation not permitted", "must be run as root", "are you root"],
    cause: "The command lacked the privileges it needs.",
    remedy: "Run the agent as root; check file ownership and AppArmor/SELinux policies.",
  },
  {
    code: "NA_KUBEADM",
    signatures: [
      "[preflight] some fatal errors occurred",
      "error execution phase",
      "couldn't validate the identity of the api server",
      "unhealthy",
      "context deadline exceeded",
      "could not initialize a kubernetes cluster",
      "failed to bootstrap",
    ],
    cause: "kubeadm failed in preflight or in an init/join phase.",
    remedy:
      "Read the kubeadm error; common causes are swap on, a port in use, clock skew, or an unreachable control plane.",
  },
  {
    code: "NA_CONTAINERD",
    signatures: [
      "failed to pull image",
      "failed to resolve reference",
      "image pull",
      "cri socket",
      "/run/containerd/containerd.sock",
      "connect: connection refused",
      "failed to get sandbox image",
    ],
    cause: "The container runtime could not pull an image or was unreachable.",
    remedy: "Check `systemctl status containerd` and that the registry is reachable, then retry.",
  },
  {
    code: "NA_REPO_GPG",
    signatures: [
      "no_pubkey",
      "is not signed",
      "does not have a release file",
      "the following signatures couldn't be verified",
      "gpg error",
    ],
    cause: "An apt repository is misconfigured or its signing key is missing.",
    remedy: "Import the missing key or fix /etc/apt/sources.list*, run `apt-get update`, and retry.",
  },
];

// Harmless kubeadm warnings that would match NA_NET_UNREACH (recipes 10.2, hazard 1).
const harmless = /^.*(falling back to the local client version|could not fetch a kubernetes version).*$/gim;
const preflightBlock = /BLOCKED \[([\w-]+)\] (NA_[A-Z_]+): (.*)\n\s*Try: (.*)/;

export function classifyFailure(step: string, output: string): Classification {
  // `runos preflight` names its own code, cause and remedy for the first blocking check.
  const blocked = preflightBlock.exec(output);
  if (blocked && isErrorCode(blocked[2] ?? ""))
    return {
      code: blocked[2] as ErrorCode,
      cause: `Preflight check ${blocked[1]}: ${blocked[3]}`,
      remedy: blocked[4] ?? "",
    };
  const haystack = output.replace(harmless, "").toLowerCase();
  for (const bucket of buckets) {
    if (bucket.signatures.some((s) => haystack.includes(s)))
      return { code: bucket.code, cause: bucket.cause, remedy: bucket.remedy };
  }
  return {
    code: "NA_GENERIC",
    cause: step
      ? `An installation command failed: ${step}. See the full log on the node for details.`
      : "An installation command failed. See the full log on the node for details.",
    remedy: "Review /var/log/runos.log on the node, fix the cause, and retry.",
  };
}
