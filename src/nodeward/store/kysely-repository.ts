import type { Kysely, Transaction } from "kysely";
import { RunosError } from "../../common/errors.js";
import type {
  CertificateRecord,
  ClusterRecord,
  KubernetesClusterRecord,
  NewNode,
  NewNodelog,
  NodelogRecord,
  NodeRecord,
  NodeRole,
  PresenceUpdate,
  Repository,
  TokenRecord,
  UserRecord,
  VpnPeerState,
} from "./repository.js";
import { iso, isoOrNull, ms, toCertificate, toNode } from "./rows.js";
import type { Database } from "./schema.js";

/** The Repository on kysely: dialect-neutral queries, so SQLite and PostgreSQL share it. */
export class KyselyRepository implements Repository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly inTransaction = false,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  async transaction<T>(work: (tx: Repository) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    return this.db
      .transaction()
      .execute((trx: Transaction<Database>) => work(new KyselyRepository(trx, true)));
  }

  async close(): Promise<void> {
    await this.onClose();
  }

  async insertToken(token: TokenRecord): Promise<void> {
    await this.db
      .insertInto("tokens")
      .values({
        token_hash: token.tokenHash,
        aid: token.aid,
        cluster: token.cluster,
        expires_at: iso(token.expiresAt),
        uses_left: token.usesLeft,
        created_at: iso(token.createdAt),
        role: token.role ?? "worker",
      })
      .execute();
  }

  async findToken(tokenHash: string): Promise<TokenRecord | undefined> {
    const row = await this.db
      .selectFrom("tokens")
      .selectAll()
      .where("token_hash", "=", tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      tokenHash: row.token_hash,
      aid: row.aid,
      cluster: row.cluster,
      expiresAt: ms(row.expires_at),
      usesLeft: row.uses_left,
      createdAt: ms(row.created_at),
      role: row.role === "control-plane" ? "control-plane" : "worker",
    };
  }

  async consumeToken(tokenHash: string): Promise<boolean> {
    const result = await this.db
      .updateTable("tokens")
      .set((eb) => ({ uses_left: eb("uses_left", "-", 1) }))
      .where("token_hash", "=", tokenHash)
      .where("uses_left", ">", 0)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async ensureCluster(aid: string, name: string, now: number): Promise<void> {
    await this.db
      .insertInto("clusters")
      .values({ aid, name, created_at: iso(now), vip_holder: null, vip_generation: 0, idx: null })
      .onConflict((oc) => oc.columns(["aid", "name"]).doNothing())
      .execute();
  }

  async getCluster(aid: string, name: string): Promise<ClusterRecord | undefined> {
    const row = await this.db
      .selectFrom("clusters")
      .selectAll()
      .where("aid", "=", aid)
      .where("name", "=", name)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      aid: row.aid,
      name: row.name,
      createdAt: ms(row.created_at),
      vipHolder: row.vip_holder,
      vipGeneration: row.vip_generation,
      idx: row.idx,
    };
  }

  async setVipHolder(
    aid: string,
    name: string,
    holder: string | null,
    generation: number,
    expectedGeneration: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("clusters")
      .set({ vip_holder: holder, vip_generation: generation })
      .where("aid", "=", aid)
      .where("name", "=", name)
      .where("vip_generation", "=", expectedGeneration)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async insertNode(node: NewNode): Promise<void> {
    await this.db
      .insertInto("nodes")
      .values({
        nid: node.nid,
        aid: node.aid,
        cluster: node.cluster,
        machine_id: node.machineId,
        os: node.os,
        hostname: node.hostname,
        created_at: iso(node.createdAt),
        is_cp: 0,
        is_worker: 0,
        node_is_ready: 0,
      })
      .execute();
  }

  async getNode(nid: string): Promise<NodeRecord | undefined> {
    const row = await this.db.selectFrom("nodes").selectAll().where("nid", "=", nid).executeTakeFirst();
    return row ? toNode(row) : undefined;
  }

  async listNodes(options: { includeGone?: boolean } = {}): Promise<NodeRecord[]> {
    let query = this.db.selectFrom("nodes").selectAll().orderBy("created_at").orderBy("nid");
    if (!options.includeGone) query = query.where("deleted_at", "is", null).where("replaced_by", "is", null);
    return (await query.execute()).map(toNode);
  }

  async liveNodesOfMachine(aid: string, machineId: string): Promise<NodeRecord[]> {
    const rows = await this.db
      .selectFrom("nodes")
      .selectAll()
      .where("aid", "=", aid)
      .where("machine_id", "=", machineId)
      .where("deleted_at", "is", null)
      .where("replaced_by", "is", null)
      .execute();
    return rows.map(toNode);
  }

  async markNodeReplaced(nid: string, replacedBy: string): Promise<void> {
    await this.db
      .updateTable("nodes")
      .set({ replaced_by: replacedBy, overlay_ip: null })
      .where("nid", "=", nid)
      .execute();
  }

  async markNodeDeleted(nid: string, now: number): Promise<void> {
    await this.db
      .updateTable("nodes")
      .set({ deleted_at: iso(now), overlay_ip: null })
      .where("nid", "=", nid)
      .where("deleted_at", "is", null)
      .execute();
  }

  async updateInstallStatus(nid: string, status: string, now: number): Promise<void> {
    await this.db
      .updateTable("nodes")
      .set({ install_status: status, install_status_at: iso(now) })
      .where("nid", "=", nid)
      .execute();
  }

  async updateVpnPeer(nid: string, peer: VpnPeerState): Promise<void> {
    await this.db
      .updateTable("nodes")
      .set({
        vpn_pub_key: peer.vpnPubKey,
        vpn_endpoint: peer.vpnEndpoint,
        vpn_ip: peer.vpnIp,
        node_is_ready: peer.nodeIsReady ? 1 : 0,
      })
      .where("nid", "=", nid)
      .execute();
  }

  async recordPresence(updates: readonly PresenceUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    await this.transaction(async (tx) => {
      const db = (tx as KyselyRepository).db;
      for (const u of updates) {
        const status = u.status
          ? {
              version: u.status.version,
              is_cp: u.status.isCp ? 1 : 0,
              is_worker: u.status.isWorker ? 1 : 0,
              k8s_status: u.status.k8sStatus,
              external_ip: u.status.externalIp,
              // only runos agents report these; an original agent's silence keeps what ManualSync stored
              ...(u.status.nodeIp !== null ? { node_ip: u.status.nodeIp } : {}),
              ...(u.status.vpnIp !== null ? { vpn_ip: u.status.vpnIp } : {}),
              ...(u.status.hostname !== null ? { hostname: u.status.hostname } : {}),
            }
          : {};
        await db
          .updateTable("nodes")
          .set({ last_seen_at: iso(u.lastSeenAt), observed_addr: u.observedAddr, ...status })
          .where("nid", "=", u.nid)
          .execute();
      }
    });
  }

  async insertCertificate(cert: CertificateRecord): Promise<void> {
    await this.db
      .insertInto("certificates")
      .values({
        serial: cert.serial,
        nid: cert.nid,
        not_before: iso(cert.notBefore),
        not_after: iso(cert.notAfter),
        created_at: iso(cert.createdAt),
        revoked_at: isoOrNull(cert.revokedAt),
        superseded_at: isoOrNull(cert.supersededAt),
      })
      .execute();
  }

  async findCertificate(serial: string): Promise<CertificateRecord | undefined> {
    const row = await this.db
      .selectFrom("certificates")
      .selectAll()
      .where("serial", "=", serial)
      .executeTakeFirst();
    return row ? toCertificate(row) : undefined;
  }

  async listCertificates(nid: string): Promise<CertificateRecord[]> {
    const rows = await this.db
      .selectFrom("certificates")
      .selectAll()
      .where("nid", "=", nid)
      .orderBy("created_at")
      .execute();
    return rows.map(toCertificate);
  }

  async revokeCertificatesOf(nid: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable("certificates")
      .set({ revoked_at: iso(now) })
      .where("nid", "=", nid)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async supersedeCertificate(serial: string, now: number): Promise<void> {
    await this.db
      .updateTable("certificates")
      .set({ superseded_at: iso(now) })
      .where("serial", "=", serial)
      .where("superseded_at", "is", null)
      .execute();
  }

  async assignClusterIndex(aid: string, name: string, allowed: readonly number[]): Promise<number> {
    const cluster = await this.getCluster(aid, name);
    if (!cluster) throw new RunosError("NA_NOT_FOUND", `cluster ${aid}/${name} does not exist`);
    if (cluster.idx !== null) return cluster.idx;
    const used = new Set(
      (await this.db.selectFrom("clusters").select("idx").where("idx", "is not", null).execute()).map(
        (r) => r.idx,
      ),
    );
    const idx = allowed.find((candidate) => !used.has(candidate));
    if (idx === undefined) {
      throw new RunosError("NA_CONFLICT", "no free cluster index left in 172.24.0.0/16", {
        hint: "delete unused clusters or run another nodeward",
      });
    }
    await this.db
      .updateTable("clusters")
      .set({ idx })
      .where("aid", "=", aid)
      .where("name", "=", name)
      .execute();
    return idx;
  }

  async liveNodesOfCluster(aid: string, cluster: string): Promise<NodeRecord[]> {
    return this.liveNodes(aid, cluster, false);
  }

  async controlPlaneNodesOfCluster(aid: string, cluster: string): Promise<NodeRecord[]> {
    return this.liveNodes(aid, cluster, true);
  }

  private async liveNodes(aid: string, cluster: string, controlPlaneOnly: boolean): Promise<NodeRecord[]> {
    let query = this.db
      .selectFrom("nodes")
      .selectAll()
      .where("aid", "=", aid)
      .where("cluster", "=", cluster)
      .where("deleted_at", "is", null)
      .where("replaced_by", "is", null);
    if (controlPlaneOnly) query = query.where("role", "=", "control-plane");
    const rows = await query.orderBy("created_at").orderBy("nid").execute();
    return rows.map(toNode);
  }

  async usedOverlayIps(aid: string, cluster: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("nodes")
      .select("overlay_ip")
      .where("aid", "=", aid)
      .where("cluster", "=", cluster)
      .where("overlay_ip", "is not", null)
      .execute();
    return rows.map((r) => r.overlay_ip as string);
  }

  async setOverlayIp(nid: string, ip: string | null): Promise<void> {
    await this.db.updateTable("nodes").set({ overlay_ip: ip }).where("nid", "=", nid).execute();
  }

  async setListenPort(nid: string, port: number, installIp: string): Promise<void> {
    await this.db
      .updateTable("nodes")
      .set({ listen_port: port, install_ip: installIp })
      .where("nid", "=", nid)
      .execute();
  }

  async setRole(nid: string, role: NodeRole): Promise<void> {
    await this.db.updateTable("nodes").set({ role }).where("nid", "=", nid).execute();
  }

  async setPodCidr(nid: string, podCidr: string | null): Promise<void> {
    await this.db.updateTable("nodes").set({ pod_cidr: podCidr }).where("nid", "=", nid).execute();
  }

  async getKubernetesCluster(aid: string, cluster: string): Promise<KubernetesClusterRecord | undefined> {
    const row = await this.db
      .selectFrom("kubernetes_clusters")
      .selectAll()
      .where("aid", "=", aid)
      .where("cluster", "=", cluster)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      aid: row.aid,
      cluster: row.cluster,
      state: row.state === "ready" ? "ready" : "initialising",
      version: row.version,
      initNode: row.init_node,
      cpJoinNode: row.cp_join_node,
      cpJoinAt: row.cp_join_at === null ? null : ms(row.cp_join_at),
      changedAt: ms(row.changed_at),
    };
  }

  async insertKubernetesCluster(record: KubernetesClusterRecord): Promise<boolean> {
    // The primary key makes this the one atomic claim of `kubeadm init` for the cluster.
    const result = await this.db
      .insertInto("kubernetes_clusters")
      .values({
        aid: record.aid,
        cluster: record.cluster,
        state: record.state,
        version: record.version,
        init_node: record.initNode,
        cp_join_node: record.cpJoinNode,
        cp_join_at: isoOrNull(record.cpJoinAt),
        changed_at: iso(record.changedAt),
      })
      .onConflict((oc) => oc.columns(["aid", "cluster"]).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async updateKubernetesCluster(
    aid: string,
    cluster: string,
    patch: Partial<Omit<KubernetesClusterRecord, "aid" | "cluster">>,
  ): Promise<void> {
    const set: Record<string, string | null> = {};
    if (patch.state !== undefined) set.state = patch.state;
    if (patch.version !== undefined) set.version = patch.version;
    if (patch.initNode !== undefined) set.init_node = patch.initNode;
    if (patch.cpJoinNode !== undefined) set.cp_join_node = patch.cpJoinNode;
    if (patch.cpJoinAt !== undefined) set.cp_join_at = isoOrNull(patch.cpJoinAt);
    if (patch.changedAt !== undefined) set.changed_at = iso(patch.changedAt);
    if (Object.keys(set).length === 0) return;
    await this.db
      .updateTable("kubernetes_clusters")
      .set(set)
      .where("aid", "=", aid)
      .where("cluster", "=", cluster)
      .execute();
  }

  async deleteKubernetesCluster(aid: string, cluster: string): Promise<void> {
    await this.db
      .deleteFrom("kubernetes_clusters")
      .where("aid", "=", aid)
      .where("cluster", "=", cluster)
      .execute();
  }

  async insertUser(user: UserRecord): Promise<void> {
    await this.db
      .insertInto("users")
      .values({
        aid: user.aid,
        cluster: user.cluster,
        name: user.name,
        ip: user.ip,
        public_key: user.publicKey,
        created_at: iso(user.createdAt),
      })
      .execute();
  }

  async listUsers(aid: string, cluster: string): Promise<UserRecord[]> {
    const rows = await this.db
      .selectFrom("users")
      .selectAll()
      .where("aid", "=", aid)
      .where("cluster", "=", cluster)
      .orderBy("name")
      .execute();
    return rows.map((r) => ({
      aid: r.aid,
      cluster: r.cluster,
      name: r.name,
      ip: r.ip,
      publicKey: r.public_key,
      createdAt: ms(r.created_at),
    }));
  }

  async usedUserIps(): Promise<string[]> {
    return (await this.db.selectFrom("users").select("ip").execute()).map((r) => r.ip);
  }

  async deleteUser(aid: string, cluster: string, name: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom("users")
      .where("aid", "=", aid)
      .where("cluster", "=", cluster)
      .where("name", "=", name)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async addNodelog(entry: NewNodelog): Promise<void> {
    await this.db
      .insertInto("nodelogs")
      .values({
        nid: entry.nid,
        time: iso(entry.time),
        type: entry.type,
        severity: entry.severity,
        message: entry.message,
        code: entry.code,
        cause: entry.cause,
        remedy: entry.remedy,
        docs_url: entry.docsUrl,
      })
      .execute();
  }

  /** The newest `limit` entries, returned oldest first. */
  async listNodelogs(nid: string, limit: number): Promise<NodelogRecord[]> {
    const rows = await this.db
      .selectFrom("nodelogs")
      .selectAll()
      .where("nid", "=", nid)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.reverse().map((row) => ({
      id: Number(row.id),
      nid: row.nid,
      time: ms(row.time),
      type: row.type,
      severity: row.severity,
      message: row.message,
      code: row.code,
      cause: row.cause,
      remedy: row.remedy,
      docsUrl: row.docs_url,
    }));
  }
}
