import { createHash } from "node:crypto";
import { isIP } from "node:net";
import type { Clock } from "../../common/clock.js";
import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { ClusterView, ControlPlaneNode } from "../hub/cluster-view.js";
import type { Hub } from "../hub/hub.js";
import type { NodeRecord, Repository } from "../store/repository.js";
import { ClusterDebounce, type ClusterRef } from "./cluster-debounce.js";

export const controlPlaneEndpointsType = "RUNOS_SET_CONTROL_PLANE_ENDPOINTS";
export const controlPlaneEndpointsCapability = "cp-endpoints-push";
export const defaultKubeApiPort = 6443;

export interface ControlPlaneDeps {
  store: Repository;
  hub: Hub;
  clock: Clock;
  log: Logger;
  /** Port of the Kubernetes API on every control-plane node (6443). */
  apiPort?: number;
  debounceMs?: number;
  pushTimeoutMs?: number;
}

/**
 * The Kubernetes API endpoints of a cluster: its live nodes with role `control-plane` and an
 * overlay address, `https://<overlay IP>:6443` (the API over the overlay), in address order.
 */
export function controlPlaneNodesOf(
  nodes: readonly NodeRecord[],
  apiPort = defaultKubeApiPort,
): ControlPlaneNode[] {
  return nodes
    .filter((n) => n.role === "control-plane" && n.overlayIp)
    .map((n) => n.overlayIp as string)
    .sort(compareAddresses)
    .map((ip) => ({
      vpnIp: ip,
      kubeEndpoint: `https://${isIP(ip) === 6 ? `[${ip}]` : ip}:${apiPort}`,
    }));
}

function compareAddresses(a: string, b: string): number {
  const key = (ip: string) =>
    isIP(ip) === 4
      ? ip
          .split(".")
          .map((p) => p.padStart(3, "0"))
          .join(".")
      : `~${ip}`;
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

/**
 * Distribution of the control-plane endpoints: every node of the cluster whose agent announces
 * `cp-endpoints-push` gets the full list (RUNOS_SET_CONTROL_PLANE_ENDPOINTS) whenever it changes
 * (role change, node deleted or replaced) and when its stream opens; changes within the debounce
 * window go out together, and a node whose list did not change gets nothing. An empty list is
 * never pushed (agents keep their backends). Original agents poll GetControlPlaneNodes instead.
 */
export class ControlPlaneEndpoints {
  private readonly debounce: ClusterDebounce;
  private readonly lastPushed = new Map<string, string>();

  constructor(private readonly deps: ControlPlaneDeps) {
    this.debounce = new ClusterDebounce(deps.clock, (ref) => this.pushCluster(ref));
  }

  async nodesFor(ref: ClusterRef): Promise<ControlPlaneNode[]> {
    return controlPlaneNodesOf(
      await this.deps.store.controlPlaneNodesOfCluster(ref.aid, ref.cluster),
      this.deps.apiPort,
    );
  }

  /** Something that may change the cluster's list happened: push to everyone, debounced. */
  changed(ref: ClusterRef, delayMs = this.deps.debounceMs ?? 100): void {
    this.debounce.schedule(ref, delayMs);
  }

  /** A node announced itself (hello): it gets the list again even if it looks unchanged. */
  sessionOpened(node: { nid: string } & ClusterRef): void {
    this.lastPushed.delete(node.nid);
    this.changed(node);
  }

  /** Nodes were deleted or replaced: their clusters' lists may have lost a member. */
  async retired(nids: readonly string[]): Promise<void> {
    for (const nid of nids) {
      this.lastPushed.delete(nid);
      const node = await this.deps.store.getNode(nid).catch(() => undefined);
      if (node) this.changed(node);
    }
  }

  forget(nid: string): void {
    this.lastPushed.delete(nid);
  }

  stop(): void {
    this.debounce.stop();
  }

  private async pushCluster(ref: ClusterRef): Promise<void> {
    try {
      // Only the control-plane rows from the store; the recipients are the cluster's open
      // sessions. Reading the whole cluster here was a second 100-row read per reconnect.
      const controlPlanes = await this.deps.store.controlPlaneNodesOfCluster(ref.aid, ref.cluster);
      const endpoints = controlPlaneNodesOf(controlPlanes, this.deps.apiPort).map((n) => n.kubeEndpoint);
      if (endpoints.length === 0) return;
      const payload = { endpoints };
      const digest = createHash("sha256").update(JSON.stringify(payload)).digest("hex");
      const recipients = [...this.deps.hub.inCluster(ref.aid, ref.cluster)].filter(
        (s) =>
          s.capabilities.includes(controlPlaneEndpointsCapability) && this.lastPushed.get(s.nid) !== digest,
      );
      await Promise.all(recipients.map((s) => this.push(s.nid, payload, digest)));
    } catch (err) {
      this.deps.log.warn({ ...ref, err: errorMessage(err) }, "control-plane endpoint push failed");
    }
  }

  private async push(nid: string, payload: { endpoints: string[] }, digest: string): Promise<void> {
    try {
      const answer = await this.deps.hub.request(
        nid,
        controlPlaneEndpointsType,
        payload,
        this.deps.pushTimeoutMs ?? 30_000,
      );
      if (answer.type === "ERROR") {
        this.deps.log.warn(
          { nid, error: "error" in answer ? answer.error : "" },
          "node refused the control-plane endpoints",
        );
        return;
      }
      this.lastPushed.set(nid, digest);
    } catch (err) {
      this.deps.log.info({ nid, err: errorMessage(err) }, "control-plane endpoints not delivered");
    }
  }
}

/** The cluster view with nodeward's answer to GetControlPlaneNodes (stream and unary). */
export function withControlPlaneNodes(base: ClusterView, endpoints: ControlPlaneEndpoints): ClusterView {
  return { ...base, controlPlaneNodes: (node) => endpoints.nodesFor(node) };
}
