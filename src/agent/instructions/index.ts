import { instructionCatalogue } from "../../wire/instructions/index.js";
import type { InstructionHandler } from "./define.js";
import { getClusterJoinCmd } from "./get-cluster-join-cmd.js";
import { getNodeStatus } from "./get-node-status.js";
import { notYetSupported } from "./not-yet-supported.js";
import { removeEtcdMember } from "./remove-etcd-member.js";
import { setControlPlaneEndpoints } from "./set-control-plane-endpoints.js";
import { setUserPeers } from "./set-user-peers.js";
import { setVpnPeers } from "./set-vpn-peers.js";
import { vipAssign } from "./vip-assign.js";
import { vipRelease } from "./vip-release.js";
import { vpnPeersDelta } from "./vpn-peers-delta.js";

/** Handlers that are implemented; every other catalogue type answers "not supported yet". */
const implemented = [
  getNodeStatus,
  getClusterJoinCmd,
  setVpnPeers,
  setUserPeers,
  setControlPlaneEndpoints,
  vpnPeersDelta,
  removeEtcdMember,
  vipAssign,
  vipRelease,
] as unknown as InstructionHandler[];

export function createHandlerRegistry(
  overrides: InstructionHandler[] = [],
): ReadonlyMap<string, InstructionHandler> {
  const registry = new Map<string, InstructionHandler>();
  for (const spec of instructionCatalogue.values()) registry.set(spec.type, notYetSupported(spec));
  for (const handler of [...implemented, ...overrides]) registry.set(handler.spec.type, handler);
  return registry;
}

export const implementedInstructionTypes = (): string[] => implemented.map((handler) => handler.spec.type);
