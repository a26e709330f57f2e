import type { NodeRecord, UserRecord } from "../store/repository.js";
import { chooseEndpoint, type NodeAddresses, peerIp } from "./endpoints.js";
import { wg0DefaultPort } from "./listen-port.js";

/** One entry of a node's desired wg0 peer set, in the wire's SET_VPN_PEERS shape. */
export interface DesiredPeer {
  pubKey: string;
  endpointIp: string;
  vpnIp: string;
  /** Beyond vpnIp/32: user addresses routed through this peer (it is their wg1 gateway). */
  allowedIps?: string[];
  /** When the peer listens on a port other than 51820. */
  endpointPort?: number;
}

export interface PeerInputs {
  nodes: readonly NodeRecord[];
  /** Live observed address per node (from its open stream), falling back to the stored one. */
  observed(node: NodeRecord): string | null;
  users: readonly UserRecord[];
  /** The control-plane VIP's route: its /32 is an allowed IP of the holder's peer entry. */
  vip?: { holder: string; cidr: string };
}

export function addressesOf(node: NodeRecord, observed: string | null): NodeAddresses {
  // The heartbeat's address is the freshest; ManualSync's (or an original agent's) is the fallback.
  return { reported: node.nodeIp || node.vpnEndpoint || "", observed: peerIp(observed ?? node.observedAddr) };
}

/** Nodes that can be peers: they have an overlay address and a WireGuard key. */
export function overlayMembers(nodes: readonly NodeRecord[]): NodeRecord[] {
  return nodes.filter((n) => n.overlayIp && n.vpnPubKey);
}

/**
 * The wg1 gateway for users: the first member reachable without NAT (it reports the address
 * nodeward sees), else the first member. Deterministic, so every node agrees.
 */
export function userGateway(inputs: PeerInputs): NodeRecord | undefined {
  const members = overlayMembers(inputs.nodes);
  return (
    members.find((n) => {
      const a = addressesOf(n, inputs.observed(n));
      return a.reported !== "" && a.reported === a.observed;
    }) ?? members[0]
  );
}

/** Facts computed once per cluster push and shared by every node's view. */
export interface PeerContext {
  gatewayNid: string | undefined;
  userIps: string[];
}

export function peerContext(inputs: PeerInputs): PeerContext {
  return { gatewayNid: userGateway(inputs)?.nid, userIps: inputs.users.map((u) => `${u.ip}/32`) };
}

/** `n` as a peer of a node whose addresses are `me`. */
export function peerEntry(
  me: NodeAddresses,
  n: NodeRecord,
  inputs: PeerInputs,
  ctx: PeerContext,
): DesiredPeer {
  const peer: DesiredPeer = {
    pubKey: n.vpnPubKey as string,
    endpointIp: chooseEndpoint(me, addressesOf(n, inputs.observed(n))),
    vpnIp: n.overlayIp as string,
  };
  if (ctx.gatewayNid === n.nid && ctx.userIps.length > 0) peer.allowedIps = ctx.userIps;
  if (inputs.vip?.holder === n.nid) peer.allowedIps = [...(peer.allowedIps ?? []), inputs.vip.cidr];
  // Pod traffic to n's pods rides wg0 natively: its pod range is one of its allowed IPs.
  if (n.podCidr) peer.allowedIps = [...(peer.allowedIps ?? []), n.podCidr];
  if (n.listenPort && n.listenPort !== wg0DefaultPort) peer.endpointPort = n.listenPort;
  return peer;
}

/**
 * Everything other nodes' view of `n` depends on (besides their own address): when this is
 * unchanged, no other node needs to hear about `n`; when it changes, each needs one entry.
 */
export function peerFacts(n: NodeRecord, inputs: PeerInputs, ctx: PeerContext): string {
  const a = addressesOf(n, inputs.observed(n));
  const extra = [
    ...(ctx.gatewayNid === n.nid ? ctx.userIps : []),
    ...(inputs.vip?.holder === n.nid ? [inputs.vip.cidr] : []),
    ...(n.podCidr ? [n.podCidr] : []),
  ];
  return JSON.stringify([n.vpnPubKey, n.overlayIp, a.reported, a.observed, n.listenPort, extra]);
}

/** Every other member of the cluster, with the endpoint `self` should use for each. */
export function desiredPeersFor(
  self: NodeRecord,
  inputs: PeerInputs,
  ctx = peerContext(inputs),
): DesiredPeer[] {
  const me = addressesOf(self, inputs.observed(self));
  return overlayMembers(inputs.nodes)
    .filter((n) => n.nid !== self.nid)
    .map((n) => peerEntry(me, n, inputs, ctx));
}
