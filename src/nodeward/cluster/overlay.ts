import { createHash } from "node:crypto";
import type { Clock } from "../../common/clock.js";
import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { JsonText } from "../../wire/envelope.js";
import type { Hub } from "../hub/hub.js";
import type { Presence } from "../hub/presence.js";
import { type InstallCommand, wireguardInstallCommands } from "../recipes/wireguard.js";
import type { NodeRecord, Repository } from "../store/repository.js";
import { ClusterDebounce, type ClusterRef } from "./cluster-debounce.js";
import { peerIp } from "./endpoints.js";
import { clusterSubnet } from "./ipam.js";
import { chooseListenPort, wg0DefaultPort } from "./listen-port.js";
import {
  addressesOf,
  type DesiredPeer,
  desiredPeersFor,
  overlayMembers,
  type PeerContext,
  type PeerInputs,
  peerContext,
  peerEntry,
  peerFacts,
} from "./peers.js";
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

export const userPeersType = "RUNOS_SET_USER_PEERS";
export const userPeersCapability = "wg1-users";
export const peersDeltaType = "RUNOS_VPN_PEERS_DELTA";
export const peersDeltaCapability = "peers-delta";

/** What one cluster push changed, relative to the previous push. */
interface ClusterChange {
  /** Members whose peer entry (as others see it) changed, or that are new. */
  changed: NodeRecord[];
  /** Public keys of members that left. */
  removed: string[];
}

/**
 * The overlay's desired state and its distribution. Whenever a node joins, leaves, or changes
 * key or endpoint, each other node is told: with a delta sized by the change (one entry for a
 * join) when it announces `peers-delta` and holds the previous set, otherwise with its full set
 * (SET_VPN_PEERS, fullState). A node whose set did not change hears nothing.
 */
export class Overlay {
  private readonly debounce: ClusterDebounce;
  private readonly lastPushed = new Map<string, string>();
  private readonly lastUserPush = new Map<string, string>();
  /** Per cluster: each member's peer facts at the last push (memory linear in nodes). */
  private readonly facts = new Map<string, Map<string, { facts: string; pubKey: string }>>();
  /** Nodes that acknowledged every update since their last full set (a delta can build on it). */
  private readonly synced = new Set<string>();
  /**
   * Nodes whose full set is on its way, and whether anything changed since it was sent. Such a
   * node is not recomputed at every push until it answers: in a reconnect storm its cluster is
   * pushed again and again while answers are slow, and rebuilding, encoding and hashing a full set
   * for every waiting node at every push was quadratic in the cluster size.
   */
  private readonly fullInFlight = new Map<string, { token: object; changedSince: boolean }>();
  /** Bytes of peer payloads sent, for benchmarks. */
  readonly sent = { fullBytes: 0, deltaBytes: 0, full: 0, delta: 0 };

  constructor(private readonly deps: OverlayDeps) {
    this.debounce = new ClusterDebounce(deps.clock, (ref) => this.pushCluster(ref));
  }

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
    this.debounce.schedule(ref, delayMs);
  }

  /** A node (re)connected: it gets its full set again even if it looks unchanged. */
  sessionOpened(node: { nid: string } & ClusterRef): void {
    this.forget(node.nid);
    this.changed(node);
  }

  /**
   * The node announced its capabilities. Its wg0 set does not depend on them, so a set it already
   * got on this stream stands (resending it cost a full set per connect in a storm); only what
   * needs a capability (wg1 user peers) is pushed now.
   */
  helloReceived(node: { nid: string } & ClusterRef): void {
    this.lastUserPush.delete(node.nid);
    this.changed(node);
  }

  forget(nid: string): void {
    this.fullInFlight.delete(nid); // a new stream gets its own full set at once
    this.lastPushed.delete(nid);
    this.lastUserPush.delete(nid);
    this.synced.delete(nid);
  }

  stop(): void {
    this.debounce.stop();
  }

  private async pushCluster(ref: ClusterRef): Promise<void> {
    try {
      const inputs = await this.inputs(ref);
      const ctx = peerContext(inputs);
      const change = this.diffFacts(`${ref.aid}/${ref.cluster}`, inputs, ctx);
      const userPeers = inputs.users.map((u) => ({ pubKey: u.publicKey, vpnIp: u.ip }));
      await Promise.all(
        inputs.nodes
          .filter((n) => this.deps.hub.get(n.nid))
          .map((n) =>
            this.pushNode(n, inputs, ctx, change, { peers: userPeers, gateway: n.nid === ctx.gatewayNid }),
          ),
      );
    } catch (err) {
      this.deps.log.warn({ ...ref, err: errorMessage(err) }, "overlay push failed");
    }
  }

  /** Which members' entries changed since the last push, and who left. */
  private diffFacts(key: string, inputs: PeerInputs, ctx: PeerContext): ClusterChange {
    const before = this.facts.get(key) ?? new Map<string, { facts: string; pubKey: string }>();
    const now = new Map<string, { facts: string; pubKey: string }>();
    const changed: NodeRecord[] = [];
    for (const member of overlayMembers(inputs.nodes)) {
      const facts = peerFacts(member, inputs, ctx);
      now.set(member.nid, { facts, pubKey: member.vpnPubKey as string });
      if (before.get(member.nid)?.facts !== facts) changed.push(member);
    }
    const removed: string[] = [];
    for (const [nid, entry] of before) {
      const after = now.get(nid);
      if (!after || after.pubKey !== entry.pubKey) removed.push(entry.pubKey);
    }
    this.facts.set(key, now);
    return { changed, removed };
  }

  private async pushNode(
    node: NodeRecord,
    inputs: PeerInputs,
    ctx: PeerContext,
    change: ClusterChange,
    users: { peers: { pubKey: string; vpnIp: string }[]; gateway: boolean },
  ) {
    const session = this.deps.hub.get(node.nid);
    const canDelta =
      session?.capabilities.includes(peersDeltaCapability) === true &&
      this.synced.has(node.nid) &&
      !change.changed.some((n) => n.nid === node.nid); // its own address changed: its whole view may have
    if (canDelta) await this.sendDelta(node, inputs, ctx, change);
    else await this.sendFullSet(node, inputs, ctx);
    if (session?.capabilities.includes(userPeersCapability)) {
      await this.sendIfChanged(this.lastUserPush, node.nid, userPeersType, users);
    }
  }

  /** The node's whole set; while one is unanswered, later pushes only note that it is stale. */
  private async sendFullSet(node: NodeRecord, inputs: PeerInputs, ctx: PeerContext) {
    const waiting = this.fullInFlight.get(node.nid);
    if (waiting) {
      waiting.changedSince = true;
      return;
    }
    const mine = { token: {}, changedSince: false };
    this.fullInFlight.set(node.nid, mine);
    try {
      const peers = desiredPeersFor(node, inputs, ctx);
      const pushed = await this.sendIfChanged(this.lastPushed, node.nid, "SET_VPN_PEERS", {
        peers,
        fullState: true,
      });
      if (pushed) this.synced.add(node.nid);
    } finally {
      if (this.fullInFlight.get(node.nid)?.token === mine.token) this.fullInFlight.delete(node.nid);
      if (mine.changedSince) this.changed(node); // it missed a push: one more round brings it up to date
    }
  }

  /** One entry per changed member and one key per leaver; a failure falls back to a full set next time. */
  private async sendDelta(node: NodeRecord, inputs: PeerInputs, ctx: PeerContext, change: ClusterChange) {
    const me = addressesOf(node, inputs.observed(node));
    const upsert = change.changed.filter((n) => n.nid !== node.nid).map((n) => peerEntry(me, n, inputs, ctx));
    const remove = change.removed.filter((key) => key !== node.vpnPubKey);
    if (upsert.length === 0 && remove.length === 0) return;
    this.lastPushed.delete(node.nid); // the full-set digest no longer describes what the node holds
    const ok = await this.send(node.nid, peersDeltaType, { upsert, remove }, "delta");
    if (!ok) this.synced.delete(node.nid);
  }

  /** Sends unless the node already got exactly this payload; true when it holds it now. */
  private async sendIfChanged(
    cache: Map<string, string>,
    nid: string,
    type: string,
    payload: unknown,
  ): Promise<boolean> {
    const json = new JsonText(JSON.stringify(payload)); // once: for the digest, the count and the wire
    const digest = createHash("sha256").update(json.text).digest("hex");
    if (cache.get(nid) === digest) return true;
    const ok = await this.send(nid, type, json, type === "SET_VPN_PEERS" ? "full" : undefined);
    if (ok) cache.set(nid, digest);
    return ok;
  }

  private async send(nid: string, type: string, payload: unknown, kind?: "full" | "delta"): Promise<boolean> {
    if (kind) {
      const bytes = Buffer.byteLength(payload instanceof JsonText ? payload.text : JSON.stringify(payload));
      if (kind === "full") {
        this.sent.full += 1;
        this.sent.fullBytes += bytes;
      } else {
        this.sent.delta += 1;
        this.sent.deltaBytes += bytes;
      }
    }
    try {
      const answer = await this.deps.hub.request(nid, type, payload, this.deps.pushTimeoutMs ?? 10_000);
      if (answer.type === "ERROR") {
        this.deps.log.warn(
          { nid, type, error: "error" in answer ? answer.error : "" },
          "node refused overlay update",
        );
        return false;
      }
      return true;
    } catch (err) {
      this.deps.log.info({ nid, type, err: errorMessage(err) }, "overlay update not delivered");
      return false;
    }
  }
}
