import type { Clock } from "../../common/clock.js";
import { errorMessage, RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { grpc } from "../../wire/grpc.js";
import { isEncryptionKey, parseJoinLine } from "../../wire/kubeadm-join.js";
import type { BundleStore } from "../bundles/bundle-store.js";
import { type BundleManifest, pauseImageOf } from "../bundles/manifest.js";
import { vipAddress } from "../cluster/ipam.js";
import { retryLater } from "../hub/admission.js";
import type { InstructionAnswer } from "../hub/session.js";
import {
  type KubernetesRole,
  kubernetesInstallCommands,
  type PackageSource,
} from "../recipes/kubernetes/list.js";
import { podCidrOf } from "../recipes/kubernetes/network.js";
import type { InstallCommand } from "../recipes/wireguard.js";
import type { KubernetesClusterRecord, NodeRecord, Repository } from "../store/repository.js";

export interface KubernetesDeps {
  store: Repository;
  hub: {
    get(nid: string): { capabilities?: readonly string[] } | undefined;
    request(nid: string, type: string, payload: unknown, timeoutMs: number): Promise<InstructionAnswer>;
  };
  bundles: BundleStore;
  clock: Clock;
  log: Logger;
  /** Base URL nodes fetch bundles from, e.g. http://nodeward:9190 (no trailing slash). */
  installerUrl: string;
  /** Kubernetes version for the online source, when no bundle is imported. */
  onlineVersion: string;
  /** Told when a node's peer entry changes (its pod range became an allowed IP). */
  nodeChanged(node: NodeRecord): void;
}

export const patchDir = "/etc/runos/kubernetes/patches";
/** How long a control plane's join may hold the one-at-a-time slot before another may go. */
const cpJoinSlotMs = 15 * 60_000;
const joinDataTimeoutMs = 90_000;
const retryAfterMs = 5_000;
const nodeName = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A cluster's Kubernetes bootstrap. The first control plane to ask gets `kubeadm init` (an atomic
 * insert: two cannot both win, and the claim survives a nodeward restart); everyone else waits
 * until it reports KUBERNETES_READY, then gets a join list with fresh join data from a healthy
 * control plane. Control planes join one at a time.
 */
export class KubernetesOrchestrator {
  constructor(private readonly deps: KubernetesDeps) {}

  async installCommands(nid: string): Promise<InstallCommand[]> {
    const { store, clock } = this.deps;
    const node = await store.getNode(nid);
    if (!node) throw new RunosError("NA_NOT_FOUND", `node ${nid} is not known`);
    if (!node.overlayIp)
      throw new RunosError(
        "NA_CONFLICT",
        "this node has no overlay address yet: run `runos install wireguard` first",
      );
    const name = node.hostname.toLowerCase();
    if (!nodeName.test(name))
      throw new RunosError(
        "NA_INVALID_INPUT",
        `the hostname "${node.hostname}" is not a valid Kubernetes node name (RFC 1123 label)`,
        {
          hint: "hostnamectl set-hostname my-node-01, then install again",
        },
      );
    const cluster = await store.getCluster(node.aid, node.cluster);
    if (cluster?.idx == null) throw new RunosError("NA_CONFLICT", "the cluster has no overlay subnet yet");
    const podCidr = podCidrOf(node.overlayIp);
    if (node.podCidr !== podCidr) {
      await store.setPodCidr(nid, podCidr);
      this.deps.nodeChanged({ ...node, podCidr });
    }

    let record = await store.getKubernetesCluster(node.aid, node.cluster);
    const source = await this.source(record?.version);
    const version = source.version;
    let role: KubernetesRole;
    if (node.role === "control-plane") {
      if (!record) {
        const claim: KubernetesClusterRecord = {
          aid: node.aid,
          cluster: node.cluster,
          state: "initialising",
          version,
          initNode: nid,
          cpJoinNode: null,
          cpJoinAt: null,
          changedAt: clock.now(),
        };
        if (await store.insertKubernetesCluster(claim)) {
          this.deps.log.info(
            { nid, cluster: node.cluster, version },
            "kubernetes: this node runs kubeadm init",
          );
          record = claim;
        } else record = await store.getKubernetesCluster(node.aid, node.cluster);
      }
      if (!record) throw new RunosError("NA_INTERNAL", "the cluster's Kubernetes record vanished");
      if (record.initNode === nid) role = "init";
      else if (record.state !== "ready") throw await this.notReady(record);
      else {
        const busy =
          record.cpJoinNode &&
          record.cpJoinNode !== nid &&
          (record.cpJoinAt ?? 0) > clock.now() - cpJoinSlotMs;
        if (busy) {
          const other = await store.getNode(record.cpJoinNode as string);
          throw cannotYet(
            `control plane ${other?.hostname ?? record.cpJoinNode} is joining; control planes join one at a time`,
          );
        }
        await store.updateKubernetesCluster(node.aid, node.cluster, {
          cpJoinNode: nid,
          cpJoinAt: clock.now(),
        });
        role = "control-plane";
      }
    } else {
      if (record?.state !== "ready") throw await this.notReady(record);
      role = "worker";
    }

    const input = {
      role,
      kubernetesVersion: version,
      nodeName: name,
      nodeIp: node.overlayIp,
      clusterName: node.cluster,
      vip: vipAddress(cluster.idx),
      podCidr,
      pauseImage: source.pauseImage,
      airGapped: source.package.kind === "bundle",
      patchDir,
      source: source.package,
      agent: this.agentKind(nid),
    };
    if (role === "init") return kubernetesInstallCommands(input);
    const join = await this.joinData(node, role === "control-plane");
    return kubernetesInstallCommands({ ...input, join: join.join, encryptionKey: join.encryptionKey });
  }

  /** An open stream without our capability is the original agent; its lists use systemctl. */
  private agentKind(nid: string): "runos" | "original" {
    const session = this.deps.hub.get(nid);
    return session && !(session.capabilities ?? []).includes("kubernetes-lists") ? "original" : "runos";
  }

  /** UpdateStatus from a node: KUBERNETES_READY moves the cluster on; a failure frees the join slot. */
  async statusReported(nid: string, status: string): Promise<void> {
    if (status !== "KUBERNETES_READY" && status !== "INSTALL_ERROR") return;
    const node = await this.deps.store.getNode(nid);
    if (!node) return;
    const record = await this.deps.store.getKubernetesCluster(node.aid, node.cluster);
    if (!record) return;
    const now = this.deps.clock.now();
    if (status === "KUBERNETES_READY" && record.state === "initialising" && record.initNode === nid) {
      await this.deps.store.updateKubernetesCluster(node.aid, node.cluster, {
        state: "ready",
        changedAt: now,
      });
      this.deps.log.info({ nid, cluster: node.cluster }, "kubernetes: the cluster is ready");
    }
    if (record.cpJoinNode === nid)
      await this.deps.store.updateKubernetesCluster(node.aid, node.cluster, {
        cpJoinNode: null,
        cpJoinAt: null,
      });
  }

  /**
   * Before a control plane is deleted: its etcd member is removed through another control plane
   * (the agent's quorum guard and leader move apply), so the cluster never keeps a dead voter.
   * Refused, and nothing deleted, when that fails; the last control plane has nothing to remove.
   */
  async beforeNodeDeleted(node: NodeRecord): Promise<{ etcdMemberRemoved: boolean }> {
    const record = await this.deps.store.getKubernetesCluster(node.aid, node.cluster);
    if (!record || node.role !== "control-plane" || !node.overlayIp) return { etcdMemberRemoved: false };
    if (record.state === "initialising" && record.initNode === node.nid) return { etcdMemberRemoved: false };
    const others = (await this.deps.store.controlPlaneNodesOfCluster(node.aid, node.cluster)).filter(
      (n) => n.nid !== node.nid && this.deps.hub.get(n.nid),
    );
    if (others.length === 0) return { etcdMemberRemoved: false };
    const errors: string[] = [];
    for (const other of others) {
      const answer = await this.deps.hub
        .request(other.nid, "REMOVE_ETCD_MEMBER", { node_ip: node.overlayIp }, 60_000)
        .catch((err: unknown) => ({ error: errorMessage(err) }));
      if (!("error" in answer)) {
        this.deps.log.info(
          { nid: node.nid, via: other.nid },
          "kubernetes: etcd member removed before the node's deletion",
        );
        return { etcdMemberRemoved: true };
      }
      errors.push(`${other.hostname}: ${answer.error}`);
      // The agent's quorum guard speaks for the cluster: another control plane would say the same.
      if (/quorum/i.test(answer.error)) break;
    }
    throw new RunosError(
      "NA_CONFLICT",
      `the etcd member of ${node.hostname} could not be removed, so the node was not deleted (${errors.join("; ")})`,
      {
        hint: "bring the other control planes back first, or delete with --force to leave the member",
      },
    );
  }

  /** A deleted init node that never finished frees the claim, so another control plane can init. */
  async nodeDeleted(node: NodeRecord): Promise<void> {
    const record = await this.deps.store.getKubernetesCluster(node.aid, node.cluster);
    if (!record) return;
    if (record.state === "initialising" && record.initNode === node.nid)
      await this.deps.store.deleteKubernetesCluster(node.aid, node.cluster);
    else if (record.cpJoinNode === node.nid)
      await this.deps.store.updateKubernetesCluster(node.aid, node.cluster, {
        cpJoinNode: null,
        cpJoinAt: null,
      });
  }

  async state(aid: string, cluster: string): Promise<KubernetesClusterRecord | undefined> {
    return this.deps.store.getKubernetesCluster(aid, cluster);
  }

  private async source(
    pinned: string | undefined,
  ): Promise<{ version: string; pauseImage: string; package: PackageSource }> {
    let manifest: BundleManifest | undefined;
    if (pinned) manifest = await this.deps.bundles.manifest(pinned).catch(() => undefined);
    else manifest = await this.deps.bundles.latest();
    if (manifest) {
      const pauseImage = pauseImageOf(manifest);
      if (!pauseImage)
        throw new RunosError(
          "NA_INVALID_INPUT",
          `the ${manifest.kubernetesVersion} bundle has no pause image`,
        );
      return {
        version: manifest.kubernetesVersion,
        pauseImage,
        package: {
          kind: "bundle",
          baseUrl: `${this.deps.installerUrl}/bundles/${manifest.kubernetesVersion}`,
          files: manifest.files,
          images: manifest.images,
        },
      };
    }
    const version = pinned ?? this.deps.onlineVersion;
    return { version, pauseImage: "registry.k8s.io/pause:3.10.1", package: { kind: "online" } };
  }

  private async notReady(record: KubernetesClusterRecord | undefined): Promise<grpc.ServiceError> {
    if (!record)
      return cannotYet("the cluster has no Kubernetes control plane yet: install a control-plane node first");
    const init = await this.deps.store.getNode(record.initNode);
    return cannotYet(
      `the first control plane (${init?.hostname ?? record.initNode}) is still running kubeadm init`,
    );
  }

  /** Fresh join data from a healthy control plane over its stream (never logged: it holds a token). */
  private async joinData(node: NodeRecord, controlPlane: boolean) {
    const record = await this.deps.store.getKubernetesCluster(node.aid, node.cluster);
    const planes = await this.deps.store.controlPlaneNodesOfCluster(node.aid, node.cluster);
    const candidates = planes
      .filter((n) => n.nid !== node.nid && this.deps.hub.get(n.nid))
      .sort(
        (a, b) =>
          Number(b.nid === record?.initNode) - Number(a.nid === record?.initNode) ||
          Number(b.k8sStatus === "ready") - Number(a.k8sStatus === "ready"),
      );
    const errors: string[] = [];
    for (const source of candidates) {
      try {
        const answer = await this.deps.hub.request(
          source.nid,
          "GET_CLUSTER_JOIN_CMD",
          { asCp: controlPlane },
          joinDataTimeoutMs,
        );
        if ("error" in answer) throw new Error(answer.error);
        const payload = answer.payload as { joinCmd?: unknown; encryptionKey?: unknown };
        const join = parseJoinLine(String(payload.joinCmd ?? ""));
        if (controlPlane && !join.certificateKey) throw new Error("the join line has no certificate key");
        const encryptionKey = controlPlane ? String(payload.encryptionKey ?? "") : undefined;
        if (controlPlane && !isEncryptionKey(encryptionKey ?? ""))
          throw new Error("the encryption key is malformed");
        this.deps.log.info(
          { nid: node.nid, from: source.nid, controlPlane },
          "kubernetes: join data fetched",
        );
        return {
          join: { token: join.token, caCertHash: join.caCertHash, certificateKey: join.certificateKey },
          encryptionKey,
        };
      } catch (err) {
        errors.push(`${source.hostname}: ${errorMessage(err)}`);
      }
    }
    if (candidates.length === 0)
      throw cannotYet("no control plane of the cluster is connected to hand out join data");
    throw cannotYet(`no control plane could hand out join data (${errors.join("; ")})`);
  }
}

/** FAILED_PRECONDITION with a retry hint: `runos install` waits and asks again. */
function cannotYet(message: string): grpc.ServiceError {
  return retryLater(`NA_CLUSTER_NOT_READY: ${message}`, retryAfterMs, grpc.status.FAILED_PRECONDITION);
}
