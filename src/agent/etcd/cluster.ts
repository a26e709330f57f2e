import type { EtcdEndpointHealth, EtcdEndpointStatus, EtcdMember, EtcdPort } from "../host/etcd.js";
import type { MemberId } from "./member-id.js";

export type MemberHealth = "healthy" | "unhealthy" | "unknown";

/** One member as `runos etcd list --json` shows it (spec 6.6, ids in hex as etcdctl's table). */
export interface EtcdMemberView {
  id: MemberId;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  started: boolean;
  isLearner: boolean;
  isLeader: boolean;
  health: MemberHealth;
  /** Why the health check failed (etcdctl's text), when unhealthy. */
  healthError?: string;
  /** From the member's own status; absent when it did not answer. */
  raftIndex?: number;
}

export interface EtcdClusterInfo {
  members: EtcdMemberView[];
  /** "" when no member reports a leader. */
  leaderId: MemberId;
  leaderName: string;
  clusterId: MemberId;
  raftIndex: number;
  dbSizeBytes: number;
  /** A leader exists and every voting member is healthy. */
  isHealthy: boolean;
  /** Healthy voting members are a majority of the voting members. */
  hasQuorum: boolean;
  /** The endpoints the member list was read from. */
  endpoints: string[];
}

/** Member list, then health and status of every member's client URLs (two etcdctl calls, in parallel). */
export async function collectClusterInfo(etcd: EtcdPort): Promise<EtcdClusterInfo> {
  const list = await etcd.memberList();
  const urls = list.members.flatMap((m) => m.clientUrls);
  const [health, status] = await Promise.all([etcd.endpointHealth(urls), etcd.endpointStatus(urls)]);
  const leaderId = leaderFrom(status);
  const members = list.members.map((m) => memberView(m, health, status, leaderId));
  const leaderStatus = status.find((s) => s.memberId === leaderId && s.leaderId === leaderId);
  const localStatus = status.find((s) => s.memberId === list.answeredBy) ?? status[0];
  const voters = members.filter((m) => !m.isLearner);
  const healthyVoters = voters.filter((m) => m.health === "healthy").length;
  return {
    members,
    leaderId,
    leaderName: members.find((m) => m.id === leaderId)?.name ?? "",
    clusterId: list.clusterId,
    raftIndex: (leaderStatus ?? localStatus)?.raftIndex ?? 0,
    dbSizeBytes: (leaderStatus ?? localStatus)?.dbSizeBytes ?? 0,
    isHealthy: leaderId !== "" && voters.length > 0 && healthyVoters === voters.length,
    hasQuorum: voters.length > 0 && healthyVoters >= majority(voters.length),
    endpoints: etcd.endpoints(),
  };
}

export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/**
 * The leader as the members report it: preferably one that names itself, otherwise the id most
 * members agree on. Never guessed: "" when nobody reports one.
 */
export function leaderFrom(status: EtcdEndpointStatus[]): MemberId {
  const self = status.find((s) => s.leaderId !== "" && s.leaderId === s.memberId);
  if (self) return self.leaderId;
  const votes = new Map<MemberId, number>();
  for (const s of status) if (s.leaderId) votes.set(s.leaderId, (votes.get(s.leaderId) ?? 0) + 1);
  return [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
}

function memberView(
  member: EtcdMember,
  health: EtcdEndpointHealth[],
  status: EtcdEndpointStatus[],
  leaderId: MemberId,
): EtcdMemberView {
  const own = health.filter((h) => member.clientUrls.includes(h.endpoint));
  const memberHealth: MemberHealth =
    own.length === 0 ? "unknown" : own.some((h) => h.healthy) ? "healthy" : "unhealthy";
  const ownStatus = status.find((s) => s.memberId === member.id);
  const healthError = memberHealth === "unhealthy" ? own.find((h) => h.error)?.error : undefined;
  return {
    id: member.id,
    name: member.name,
    peerUrls: member.peerUrls,
    clientUrls: member.clientUrls,
    started: member.name !== "",
    isLearner: member.isLearner,
    isLeader: member.id === leaderId,
    health: memberHealth,
    ...(healthError ? { healthError } : {}),
    ...(ownStatus ? { raftIndex: ownStatus.raftIndex } : {}),
  };
}
