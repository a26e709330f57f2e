import { isIP } from "node:net";
import type { VpnPeer } from "../../wire/instructions/set-vpn-peers.js";
import type { WgPeer } from "../host/wireguard-plan.js";

export const wgPort = 51820;
export const persistentKeepalive = 5;
const wgKey = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$/;

export interface SkippedPeer {
  pubKey: string;
  reason: string;
}

/** host:port with IPv6 endpoints bracketed (the original wrote them bare, which wg rejects). */
export function endpointFor(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function isCidr(value: string): boolean {
  const [ip, prefix, ...rest] = value.split("/");
  if (rest.length > 0 || ip === undefined || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  const family = isIP(ip);
  return family !== 0 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Validates each peer on its own: a bad one is skipped with a reason, the others still apply.
 * Keys must be canonical 32-byte base64; addresses literal IPs (no host names, no CIDR).
 */
export function validatePeers(peers: VpnPeer[]): { valid: WgPeer[]; skipped: SkippedPeer[] } {
  const valid: WgPeer[] = [];
  const skipped: SkippedPeer[] = [];
  const seen = new Set<string>();
  for (const peer of peers) {
    const reason = invalidReason(peer, seen);
    if (reason) {
      skipped.push({ pubKey: peer.pubKey, reason });
      continue;
    }
    seen.add(peer.pubKey);
    valid.push({
      publicKey: peer.pubKey,
      endpoint: peer.endpointIp ? endpointFor(peer.endpointIp, peer.endpointPort ?? wgPort) : "",
      allowedIps: [`${peer.vpnIp}/32`, ...(peer.allowedIps ?? [])],
      persistentKeepalive,
    });
  }
  return { valid, skipped };
}

function invalidReason(peer: VpnPeer, seen: Set<string>): string | undefined {
  if (!wgKey.test(peer.pubKey)) return "pubKey is not a WireGuard public key (44 characters of base64)";
  if (seen.has(peer.pubKey)) return "duplicate pubKey in the same list";
  if (isIP(peer.vpnIp) !== 4) return `vpnIp "${peer.vpnIp}" is not an IPv4 address`;
  if (peer.endpointIp !== "" && isIP(peer.endpointIp) === 0) {
    return `endpointIp "${peer.endpointIp}" is not an IP address (host names and CIDRs are refused)`;
  }
  for (const cidr of peer.allowedIps ?? [])
    if (!isCidr(cidr)) return `allowedIps entry "${cidr}" is not a CIDR`;
  return undefined;
}
