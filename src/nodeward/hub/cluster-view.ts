import { vipAddress } from "../cluster/ipam.js";
import type { Overlay } from "../cluster/overlay.js";
import type { Repository } from "../store/repository.js";

export interface ControlPlaneNode {
  vpnIp: string;
  kubeEndpoint: string;
}

export interface PeerView {
  pubKey: string;
  endpointIp: string;
  ip: string;
  allowedIps?: string[];
  endpointPort?: number;
}

export interface VipAnswer {
  isHolder: boolean;
  generation: number;
  /** @since 2 runos: the cluster's VIP address. */
  vip?: string;
}

interface NodeRef {
  nid: string;
  aid: string;
  cluster: string;
}

/**
 * What the hub asks of the cluster domain. Cluster orchestration (IPAM, peers, join flow, VIP
 * election) lands later; until then this reads what the store records, which is mostly nothing.
 */
export interface ClusterView {
  controlPlaneNodes(node: NodeRef): Promise<ControlPlaneNode[]>;
  vipHolder(node: NodeRef): Promise<VipAnswer>;
  peersFor(node: NodeRef): Promise<PeerView[]>;
}

export function storeClusterView(store: Repository): ClusterView {
  return {
    controlPlaneNodes: async () => [],
    async vipHolder(node) {
      const cluster = await store.getCluster(node.aid, node.cluster);
      if (!cluster) return { isHolder: false, generation: 0 };
      const vip = cluster.idx === null ? {} : { vip: vipAddress(cluster.idx) };
      return { isHolder: cluster.vipHolder === node.nid, generation: cluster.vipGeneration, ...vip };
    },
    peersFor: async () => [],
  };
}

/** The store's answers plus the overlay's peer sets. */
export function overlayClusterView(store: Repository, overlay: Pick<Overlay, "peersFor">): ClusterView {
  const base = storeClusterView(store);
  return {
    ...base,
    async peersFor(node) {
      return (await overlay.peersFor(node)).map((p) => ({
        pubKey: p.pubKey,
        endpointIp: p.endpointIp,
        ip: p.vpnIp,
        allowedIps: p.allowedIps ?? [],
        endpointPort: p.endpointPort ?? 0,
      }));
    },
  };
}
