/**
 * The one storage port of nodeward. Domain values only (times are epoch milliseconds, flags are
 * booleans); each implementation maps them to its own column types. `transaction` gives a
 * repository bound to one transaction, so multi-step changes commit or roll back together.
 */
export interface Repository {
  transaction<T>(work: (tx: Repository) => Promise<T>): Promise<T>;
  close(): Promise<void>;

  insertToken(token: TokenRecord): Promise<void>;
  findToken(tokenHash: string): Promise<TokenRecord | undefined>;
  /** Takes one use; false when none was left (a concurrent registration won the race). */
  consumeToken(tokenHash: string): Promise<boolean>;

  ensureCluster(aid: string, name: string, now: number): Promise<void>;
  getCluster(aid: string, name: string): Promise<ClusterRecord | undefined>;
  /**
   * Records the VIP holder (null = none) with a new generation, only if the stored generation
   * is still `expectedGeneration` (compare-and-set); false when it was not.
   */
  setVipHolder(
    aid: string,
    name: string,
    holder: string | null,
    generation: number,
    expectedGeneration: number,
  ): Promise<boolean>;

  insertNode(node: NewNode): Promise<void>;
  getNode(nid: string): Promise<NodeRecord | undefined>;
  listNodes(options?: { includeGone?: boolean }): Promise<NodeRecord[]>;
  /** Live (not deleted, not replaced) nodes of one machine in one account. */
  liveNodesOfMachine(aid: string, machineId: string): Promise<NodeRecord[]>;
  markNodeReplaced(nid: string, replacedBy: string): Promise<void>;
  markNodeDeleted(nid: string, now: number): Promise<void>;
  updateInstallStatus(nid: string, status: string, now: number): Promise<void>;
  updateVpnPeer(nid: string, peer: VpnPeerState): Promise<void>;
  /** Writes a batch of presence updates (one statement per node, one transaction for the batch). */
  recordPresence(updates: readonly PresenceUpdate[]): Promise<void>;

  insertCertificate(cert: CertificateRecord): Promise<void>;
  findCertificate(serial: string): Promise<CertificateRecord | undefined>;
  listCertificates(nid: string): Promise<CertificateRecord[]>;
  revokeCertificatesOf(nid: string, now: number): Promise<number>;
  /** Marks a serial superseded, keeping the earliest time if it already was. */
  supersedeCertificate(serial: string, now: number): Promise<void>;

  /** The cluster's overlay index (its 172.24.<idx>.0/24), assigned on first use. */
  assignClusterIndex(aid: string, name: string, allowed: readonly number[]): Promise<number>;
  liveNodesOfCluster(aid: string, cluster: string): Promise<NodeRecord[]>;
  /** The live nodes of a cluster with role control-plane (a handful, where the cluster has 250). */
  controlPlaneNodesOfCluster(aid: string, cluster: string): Promise<NodeRecord[]>;
  /** Overlay addresses held by live nodes of the cluster. */
  usedOverlayIps(aid: string, cluster: string): Promise<string[]>;
  setOverlayIp(nid: string, ip: string | null): Promise<void>;
  setListenPort(nid: string, port: number, installIp: string): Promise<void>;
  setRole(nid: string, role: NodeRole): Promise<void>;
  setPodCidr(nid: string, podCidr: string | null): Promise<void>;

  getKubernetesCluster(aid: string, cluster: string): Promise<KubernetesClusterRecord | undefined>;
  /** Creates the cluster's Kubernetes record (state initialising); false when one exists already. */
  insertKubernetesCluster(record: KubernetesClusterRecord): Promise<boolean>;
  updateKubernetesCluster(
    aid: string,
    cluster: string,
    patch: Partial<Omit<KubernetesClusterRecord, "aid" | "cluster">>,
  ): Promise<void>;
  deleteKubernetesCluster(aid: string, cluster: string): Promise<void>;

  insertUser(user: UserRecord): Promise<void>;
  listUsers(aid: string, cluster: string): Promise<UserRecord[]>;
  usedUserIps(): Promise<string[]>;
  deleteUser(aid: string, cluster: string, name: string): Promise<boolean>;

  addNodelog(entry: NewNodelog): Promise<void>;
  listNodelogs(nid: string, limit: number): Promise<NodelogRecord[]>;
}

export interface TokenRecord {
  tokenHash: string;
  aid: string;
  cluster: string;
  expiresAt: number;
  usesLeft: number;
  createdAt: number;
  /** The role a node enrolled with it gets; worker when absent. */
  role?: NodeRole;
}

export interface ClusterRecord {
  aid: string;
  name: string;
  createdAt: number;
  /** Node currently holding the control-plane VIP, if any has been elected. */
  vipHolder: string | null;
  vipGeneration: number;
  /** Overlay index: the cluster owns 172.24.<idx>.0/24; null until its first node. */
  idx: number | null;
}

export interface UserRecord {
  aid: string;
  cluster: string;
  name: string;
  /** wg1 address in 172.24.200.0/21. */
  ip: string;
  publicKey: string;
  createdAt: number;
}

export interface NewNode {
  nid: string;
  aid: string;
  cluster: string;
  machineId: string;
  os: string;
  hostname: string;
  createdAt: number;
}

/** What the agent reports in heartbeats. A null nodeIp/vpnIp/hostname means "not reported" and overwrites nothing. */
export interface NodeStatusFields {
  version: string | null;
  isCp: boolean;
  isWorker: boolean;
  k8sStatus: string | null;
  externalIp: string | null;
  nodeIp: string | null;
  vpnIp: string | null;
}

/** A heartbeat's content: the status fields plus the host name a runos agent reports. */
export interface HeartbeatStatus extends NodeStatusFields {
  hostname: string | null;
}

export interface VpnPeerState {
  vpnPubKey: string;
  vpnEndpoint: string;
  vpnIp: string;
  nodeIsReady: boolean;
}

export interface NodeRecord extends NewNode, NodeStatusFields {
  deletedAt: number | null;
  replacedBy: string | null;
  lastSeenAt: number | null;
  observedAddr: string | null;
  installStatus: string | null;
  installStatusAt: number | null;
  vpnPubKey: string | null;
  vpnEndpoint: string | null;
  nodeIsReady: boolean;
  /** Allocated wg0 address (172.24.<idx>.<1..253>); freed (null) when the node is deleted or replaced. */
  overlayIp: string | null;
  /** wg0 listen port, fixed at the first VPN install (unique among nodes behind one NAT). */
  listenPort: number | null;
  /** The public address the node's VPN install request came from (its NAT's, behind one). */
  installIp: string | null;
  role: NodeRole;
  /** The node's pod range (10.244.<h>.0/24), set when it is handed a Kubernetes install list. */
  podCidr: string | null;
}

export type NodeRole = "control-plane" | "worker";

export interface PresenceUpdate {
  nid: string;
  lastSeenAt: number;
  observedAddr: string | null;
  /** Absent when only liveness changed (e.g. a heartbeat that did not parse). */
  status?: HeartbeatStatus;
}

export interface CertificateRecord {
  serial: string;
  nid: string;
  notBefore: number;
  notAfter: number;
  createdAt: number;
  revokedAt: number | null;
  supersededAt: number | null;
}

export interface NewNodelog {
  nid: string;
  time: number;
  type: string;
  severity: number;
  message: string;
  code: string;
  cause: string;
  remedy: string;
  docsUrl: string;
}

export interface NodelogRecord extends NewNodelog {
  id: number;
}

export type KubernetesState = "initialising" | "ready";

/** One cluster's Kubernetes bootstrap: who runs `kubeadm init`, and which control plane is joining. */
export interface KubernetesClusterRecord {
  aid: string;
  cluster: string;
  state: KubernetesState;
  version: string;
  initNode: string;
  /** The control plane that was last handed a join list (control planes join one at a time). */
  cpJoinNode: string | null;
  cpJoinAt: number | null;
  changedAt: number;
}
