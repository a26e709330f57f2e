import type { EtcdClusterInfo, EtcdMemberView } from "./cluster.js";
import type { RemoveResult } from "./remove.js";

/** `runos etcd list` for people (spec 6.6 layout); `--json` prints the EtcdClusterInfo itself. */
export function renderClusterInfo(info: EtcdClusterInfo): string {
  const leader = info.leaderId ? `${info.leaderName || "(unnamed)"} (${info.leaderId})` : "(none)";
  const lines = [
    "=== Etcd Cluster Information ===",
    `Cluster ID:      ${info.clusterId}`,
    `Leader:          ${leader}`,
    `Raft Index:      ${info.raftIndex}`,
    `Database Size:   ${(info.dbSizeBytes / 1024 / 1024).toFixed(2)} MB`,
    `Overall Health:  ${info.isHealthy ? "healthy" : info.hasQuorum ? "degraded (quorum held)" : "unhealthy (no quorum)"}`,
    `Total Members:   ${info.members.length}`,
    "",
  ];
  if (info.members.length === 0) return [...lines, "No etcd members found"].join("\n");
  const header = ["ID", "NAME", "STATUS", "HEALTH", "ROLE", "PEER URLS", "CLIENT URLS"];
  const rows = info.members.map((m) => [
    m.id,
    m.name || "-",
    m.started ? "started" : "not started",
    m.health,
    role(m),
    m.peerUrls.join(",") || "-",
    m.clientUrls.join(",") || "-",
  ]);
  return [...lines, "=== Member Details ===", ...table([header, ...rows])].join("\n");
}

function role(member: EtcdMemberView): string {
  if (member.isLeader) return "Leader";
  return member.isLearner ? "Learner" : "Follower";
}

function table(rows: string[][]): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}

export function renderRemoveResult(result: RemoveResult): string {
  if (!result.removed) return `etcd member with ${result.target} is not in the cluster; nothing to remove.`;
  const name = result.name ? `, ${result.name}` : "";
  const moved = result.leaderMovedTo ? `; leadership moved to ${result.leaderMovedTo} first` : "";
  return `Successfully removed etcd member with ${result.target} (${result.id}${name}${moved}) in ${(result.durationMs / 1000).toFixed(1)} s.`;
}
