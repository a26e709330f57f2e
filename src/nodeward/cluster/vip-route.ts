import type { ClusterRecord } from "../store/repository.js";
import { vipAddress } from "./ipam.js";

/**
 * Where the overlay sends the cluster's VIP: `172.24.<c>.254/32` goes into the holder's peer
 * entry on every other node, so it is reachable over wg0 and moves with the holder.
 */
export function vipRoute(cluster: ClusterRecord | undefined): { holder: string; cidr: string } | undefined {
  if (!cluster?.vipHolder || cluster.idx === null) return undefined;
  return { holder: cluster.vipHolder, cidr: `${vipAddress(cluster.idx)}/32` };
}
