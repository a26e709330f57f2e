import { isIP } from "node:net";

/** What nodeward knows about where a node can be reached. */
export interface NodeAddresses {
  /** The underlay address the node reports (config node.ip): its LAN address behind a NAT. */
  reported: string;
  /** The source address nodeward sees on the node's control connection: its NAT's public address. */
  observed: string;
}

/**
 * The endpoint `from` should use to reach `to` (docs/networking.md has the table):
 * - same observed address: both sit behind the same NAT (or are the same public host) -> the
 *   reported LAN address;
 * - `to` reports the address nodeward sees: it is not behind a NAT -> that address;
 * - otherwise `to` is behind a NAT -> its NAT's public address; with a port-preserving NAT the
 *   mapping made by `to`'s own keepalives to `from` lets the packets in (hole punching), and
 *   WireGuard roams to whatever source address answers.
 * Returns "" when nothing is known (the peer then has no endpoint until it calls in).
 */
export function chooseEndpoint(from: NodeAddresses, to: NodeAddresses): string {
  const reported = isIP(to.reported) ? to.reported : "";
  const observed = isIP(to.observed) ? to.observed : "";
  if (observed && observed === from.observed) return reported || observed;
  if (reported && (reported === observed || !observed)) return reported;
  return observed || reported;
}

/** The IP part of a gRPC peer string such as `ipv4:198.18.0.254:40312` or `[::1]:5000`. */
export function peerIp(peer: string | null | undefined): string {
  if (!peer) return "";
  const text = peer.replace(/^ipv[46]:/, "");
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(text);
  if (bracketed?.[1]) return bracketed[1].replace(/^::ffff:/, "");
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(text);
  if (v4?.[1]) return v4[1];
  return isIP(text) ? text.replace(/^::ffff:/, "") : "";
}
