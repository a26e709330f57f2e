/**
 * Stable error codes. NA_APT_LOCK..NA_GENERIC are wire values from the original agent's
 * install-failure classifier (nodelog `code`) and must never be renamed; the rest are ours.
 * Every code has one row in docs/errors.md (a test keeps them in sync).
 */
export const errorCodes = {
  NA_APT_LOCK: "Another package manager holds the system package lock.",
  NA_DISK_FULL: "The node ran out of disk space.",
  NA_NET_UNREACH: "The node could not reach the network (DNS or an outbound connection).",
  NA_PKG_NOTFOUND: "A required package or version is not available from the configured repositories.",
  NA_HELD_PKGS: "Held, broken or conflicting packages.",
  NA_PERMISSION: "Missing privileges.",
  NA_KUBEADM: "kubeadm failed in preflight or in an init/join phase.",
  NA_CONTAINERD: "The container runtime could not pull an image or was unreachable.",
  NA_REPO_GPG: "An apt repository is misconfigured or its signing key is missing.",
  NA_GENERIC: "An installation command failed.",
  NA_USAGE: "The command line is not valid.",
  NA_INVALID_INPUT: "A payload, flag or file did not pass validation.",
  NA_NOT_REGISTERED: "This node is not registered.",
  NA_ALREADY_RUNNING: "Another agent instance holds the lock.",
  NA_CA_MISMATCH: "The control plane's CA does not match the pinned CA.",
  NA_UNREACHABLE: "The control plane could not be reached.",
  NA_TOKEN_REJECTED: "The enrolment token was refused.",
  NA_CERT_INVALID: "The node certificate is missing, unreadable or expired.",
  NA_STREAM_CLOSED: "The control stream closed before an answer arrived.",
  NA_TIMEOUT: "An operation did not finish in time.",
  NA_UNKNOWN_INSTRUCTION: "The instruction type is unknown to this agent.",
  NA_UNSUPPORTED: "The instruction is not supported by this agent yet.",
  NA_EXEC_FAILED: "A system command failed.",
  NA_NOT_FOUND: "The requested object does not exist.",
  NA_CONFLICT: "The request conflicts with the current state.",
  NA_UNAUTHORIZED: "The request carries no valid credentials.",
  NA_ETCD_QUORUM: "Removing the etcd member would lose quorum; nothing was removed.",
  NA_ETCD_LEADER: "etcd leadership could not be moved off the member to remove; nothing was removed.",
  NA_HOST_TOO_SMALL: "The machine has fewer CPUs or less memory than the role needs.",
  NA_CHECKSUM: "A downloaded file does not match its sha256; it was not used.",
  NA_CLUSTER_NOT_READY:
    "The cluster cannot take this node yet (its first control plane is still being set up).",
  NA_INTERNAL: "An internal error; this looks like a bug.",
} as const;

export type ErrorCode = keyof typeof errorCodes;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCodes, value);
}
