import type { Generated } from "kysely";

/**
 * Table shapes as stored. Times are ISO-8601 UTC text and flags are 0/1 integers, which both
 * SQLite and PostgreSQL hold without driver-specific type parsers.
 */
export interface Database {
  tokens: TokensTable;
  clusters: ClustersTable;
  nodes: NodesTable;
  certificates: CertificatesTable;
  nodelogs: NodelogsTable;
  users: UsersTable;
  kubernetes_clusters: KubernetesClustersTable;
}

export interface KubernetesClustersTable {
  aid: string;
  cluster: string;
  state: string;
  version: string;
  init_node: string;
  cp_join_node: string | null;
  cp_join_at: string | null;
  changed_at: string;
}

export interface UsersTable {
  aid: string;
  cluster: string;
  name: string;
  ip: string;
  public_key: string;
  created_at: string;
}

export interface TokensTable {
  token_hash: string;
  aid: string;
  cluster: string;
  expires_at: string;
  uses_left: number;
  created_at: string;
  role: Generated<string>;
}

export interface ClustersTable {
  aid: string;
  name: string;
  created_at: string;
  vip_holder: string | null;
  vip_generation: number;
  idx: number | null;
}

export interface NodesTable {
  nid: string;
  aid: string;
  cluster: string;
  machine_id: string;
  os: string;
  hostname: string;
  created_at: string;
  deleted_at: string | null;
  replaced_by: string | null;
  last_seen_at: string | null;
  observed_addr: string | null;
  version: string | null;
  is_cp: number;
  is_worker: number;
  k8s_status: string | null;
  external_ip: string | null;
  node_ip: string | null;
  vpn_ip: string | null;
  install_status: string | null;
  install_status_at: string | null;
  vpn_pub_key: string | null;
  vpn_endpoint: string | null;
  node_is_ready: number;
  overlay_ip: string | null;
  listen_port: number | null;
  install_ip: string | null;
  role: Generated<string>;
  pod_cidr: string | null;
}

export interface CertificatesTable {
  serial: string;
  nid: string;
  not_before: string;
  not_after: string;
  created_at: string;
  revoked_at: string | null;
  superseded_at: string | null;
}

export interface NodelogsTable {
  id: Generated<number>;
  nid: string;
  time: string;
  type: string;
  severity: number;
  message: string;
  code: string;
  cause: string;
  remedy: string;
  docs_url: string;
}
