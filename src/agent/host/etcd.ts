import type { MemberId } from "../etcd/member-id.js";

export interface EtcdMember {
  id: MemberId;
  /** Empty until the member has started and published its name (etcdctl's "unstarted"). */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface EtcdMemberList {
  clusterId: MemberId;
  /** The member that answered. */
  answeredBy: MemberId;
  members: EtcdMember[];
}

export interface EtcdEndpointStatus {
  endpoint: string;
  memberId: MemberId;
  /** "" when this member knows no leader (etcd then reports `etcdserver: no leader`). */
  leaderId: MemberId;
  raftIndex: number;
  raftTerm: number;
  dbSizeBytes: number;
  version: string;
  errors: string[];
}

export interface EtcdEndpointHealth {
  endpoint: string;
  healthy: boolean;
  error?: string;
}

/** `unhealthy-cluster` is etcd's strict reconfiguration check (retry); `not-found` means already gone. */
export type EtcdRemoveOutcome = "removed" | "unhealthy-cluster" | "not-found";

/**
 * What runos asks of etcd. Calls without `endpoints` go to the configured ones (etcd.endpoints,
 * default the local member); member-specific calls name the members' own client URLs.
 */
export interface EtcdPort {
  /** The configured endpoints (for messages). */
  endpoints(): string[];
  memberList(endpoints?: string[]): Promise<EtcdMemberList>;
  /** One entry per endpoint that answered; unreachable endpoints are left out. */
  endpointStatus(endpoints: string[]): Promise<EtcdEndpointStatus[]>;
  /** One entry per endpoint, healthy or not. */
  endpointHealth(endpoints: string[]): Promise<EtcdEndpointHealth[]>;
  /** Must reach the current leader: `leaderEndpoints` are the leader's client URLs. */
  moveLeader(transfereeId: MemberId, leaderEndpoints: string[]): Promise<void>;
  memberRemove(id: MemberId, endpoints?: string[]): Promise<EtcdRemoveOutcome>;
}
