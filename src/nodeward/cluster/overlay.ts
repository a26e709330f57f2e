import { createHash } from "node:crypto";
import type { Clock, Timer } from "../../common/clock.js";
import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { Hub } from "../hub/hub.js";
import type { Presence } from "../hub/presence.js";
import { type InstallCommand, wireguardInstallCommands } from "../recipes/wireguard.js";
import type { NodeRecord, Repository } from "../store/repository.js";
import { peerIp } from "./endpoints.js";
import { clusterSubnet } from "./ipam.js";
import { chooseListenPort, wg0DefaultPort } from "./listen-port.js";
import { type DesiredPeer, desiredPeersFor, type PeerInputs, userGateway } from "./peers.js";
import { vipRoute } from "./vip-route.js";

export interface OverlayDeps {
  store: Repository;
  hub: Hub;
  presence: Presence;
  clock: Clock;
  log: Logger;
  /** Changes within this window are pushed together (a join is several small updates). */
  debounceMs?: number;
  pushTimeoutMs?: number;
}

interface ClusterRef {
  aid: string;
  cluster: string;
}

export const userPeersType = "RUNOS_SET_USER_PEERS";
export const userPeersCapability = "wg1-users";

/**
 * The overlay's desired state and its distribution: computes each node's full peer set and
 * pushes it (SET_VPN_PEERS with fullState) whenever a node joins, leaves, or changes key or
 * endpoint. Pushes per node are skipped when nothing changed for that node.
 */
export class Overlay {
  private readonly pending = new Map<string, Timer>();
  private readonly lastPushed = new Map<string, string>();
  private readonly lastUserPush = new Map<string, string>();

  constructor(private readonly deps: OverlayDeps) {}

  async inputs(ref: ClusterRef): Promise<PeerInputs> {
    const nodes = await this.deps.store.liveNodesOfCluster(ref.aid, ref.cluster);
    const users = await this.deps.store.listUsers(ref.aid, ref.cluster);
    const vip = vipRoute(await this.deps.store.getCluster(ref.aid, ref.cluster));
    return { nodes, users, vip, observed: (n) => this.deps.presence.view(n.nid).observedAddr };
  }

  /** The full desired wg0 peer set of one node (ManualSync answers with it). */
  async peersFor(node: { nid: string } & ClusterRef): Promise<DesiredPeer[]> {
    const inputs = await this.inputs(node);
    const self = inputs.nodes.find((n) => n.nid === node.nid);
    return self ? desiredPeersFor(self, inputs) : [];
  }

  /**
   * The node's VPN install list. Its wg0 port is fixed on the first call: unique among the
   * cluster's nodes seen behind the same public address as this call (`peerAddress`).
   */
  async installCommands(nid: string, peerAddress: string): Promise<InstallCommand[]> {
    const observed = peerIp(peerAddress);
    const node = await this.deps.store.transaction(async (tx) => {
      const self = await tx.getNode(nid);
      if (!self?.overlayIp || self.listenPort !== null) return self;
      // Compared by the address each install came from: known even before a node's stream is up.
      const neighbours = (await tx.liveNodesOfCluster(self.aid, self.cluster)).filter(
        (n) => n.nid !== nid && n.listenPort !== null && n.installIp === observed,
      );
      const port = chooseListenPort(neighbours.map((n) => n.listenPort as number));
      await tx.setListenPort(nid, port, observed);
      return { ...self, listenPort: port };
    });
    if (!node?.overlayIp) return [];
    const idx = Number(node.overlayIp.split(".")[2]);
    return wireguardInstallCommands({
      overlayIp: node.overlayIp,
      clusterSubnet: clusterSubnet(idx),
      listenPort: node.listenPort ?? wg0DefaultPort,
    });
  }

  /** Something peer-relevant changed in the cluster: push to everyone, debounced. */
  changed(ref: ClusterRef, delayMs = this.deps.debounceMs ?? 100): void {
    const key = `${ref.aid}/${ref.cluster}`;
    if (this.pending.has(key)) return;
    this.pending.set(
      key,
      this.deps.clock.setTimeout(() => {
        this.pending.delete(key);
        void this.pushCluster(ref);
      }, delayMs),
    );
  }

  /** A node (re)connected: it gets its set again even if it looks unchanged. */
  sessionOpened(node: { nid: string } & ClusterRef): void {
    this.lastPushed.delete(node.nid);
    this.lastUserPush.delete(node.nid);
    this.changed(node);
  }

  forget(nid: string): void {
    this.lastPushed.delete(nid);
    this.lastUserPush.delete(nid);
  }

  stop(): void {
    for (const timer of this.pending.values()) timer.cancel();
    this.pending.clear();
  }

  private async pushCluster(ref: ClusterRef): Promise<void> {
    try {
      const inputs = await this.inputs(ref);
      const userPeers = inputs.users.map((u) => ({ pubKey: u.publicKey, vpnIp: u.ip }));
      const gateway = userGateway(inputs)?.nid;
      await Promise.all(
        inputs.nodes
          .filter((n) => this.deps.hub.get(n.nid))
          .map((n) => this.pushNode(n, inputs, { peers: userPeers, gateway: n.nid === gateway })),
      );
    } catch (err) {
      this.deps.log.warn({ ...ref, err: errorMessage(err) }, "overlay push failed");
    }
  }

  private async pushNode(
    node: NodeRecord,
    inputs: PeerInputs,
    users: { peers: { pubKey: string; vpnIp: string }[]; gateway: boolean },
  ) {
    const peers = desiredPeersFor(node, inputs);
    await this.sendIfChanged(this.lastPushed, node.nid, "SET_VPN_PEERS", { peers, fullState: true });
    const session = this.deps.hub.get(node.nid);
    if (session?.capabilities.includes(userPeersCapability)) {
      await this.sendIfChanged(this.lastUserPush, node.nid, userPeersType, users);
    }
  }

  private async sendIfChanged(cache: Map<string, string>, nid: string, type: string, payload: unknown) {
    const digest = createHash("sha256").update(JSON.stringify(payload)).digest("hex");
    if (cache.get(nid) === digest) return;
    try {
      const answer = await this.deps.hub.request(nid, type, payload, this.deps.pushTimeoutMs ?? 10_000);
      if (answer.type === "ERROR") {
        this.deps.log.warn(
          { nid, type, error: "error" in answer ? answer.error : "" },
          "node refused overlay update",
        );
        return;
      }
      cache.set(nid, digest);
    } catch (err) {
      this.deps.log.info({ nid, type, err: errorMessage(err) }, "overlay update not delivered");
    }
  }
}
