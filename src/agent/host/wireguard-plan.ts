/** A WireGuard peer as runos wants it: key in base64, endpoint as host:port ([v6]:port). */
export interface WgPeer {
  publicKey: string;
  endpoint: string;
  allowedIps: string[];
  persistentKeepalive: number;
}

export type PeerChange =
  | { kind: "add"; peer: WgPeer }
  | { kind: "update"; peer: WgPeer; endpoint: boolean; allowedIps: boolean; keepalive: boolean }
  | { kind: "remove"; publicKey: string };

export interface LivePeer {
  publicKey: string;
  endpoint: string;
  allowedIps: string[];
  persistentKeepalive: number;
}

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

/**
 * The smallest set of changes that makes the device match the desired peers. Peers are updated in
 * place (removing and re-adding breaks a session for ~15 s). An endpoint is only rewritten when the
 * desired endpoint changed since the last apply: WireGuard roams to where a peer's packets come
 * from, and overwriting a roamed endpoint with a stale one would cut a NAT'd peer off.
 */
export function planPeerChanges(
  live: LivePeer[],
  desired: WgPeer[],
  previous: Map<string, WgPeer> | undefined,
  removeOthers: boolean,
): PeerChange[] {
  const liveByKey = new Map(live.map((p) => [p.publicKey, p]));
  const desiredKeys = new Set(desired.map((p) => p.publicKey));
  const changes: PeerChange[] = [];
  for (const peer of desired) {
    const current = liveByKey.get(peer.publicKey);
    if (!current) {
      changes.push({ kind: "add", peer });
      continue;
    }
    const before = previous?.get(peer.publicKey);
    const endpoint =
      peer.endpoint !== "" &&
      (before
        ? before.endpoint !== peer.endpoint || current.endpoint === ""
        : current.endpoint !== peer.endpoint);
    const allowedIps = !sameSet(current.allowedIps, peer.allowedIps);
    const keepalive = current.persistentKeepalive !== peer.persistentKeepalive;
    if (endpoint || allowedIps || keepalive)
      changes.push({ kind: "update", peer, endpoint, allowedIps, keepalive });
  }
  if (removeOthers) {
    for (const current of live)
      if (!desiredKeys.has(current.publicKey)) changes.push({ kind: "remove", publicKey: current.publicKey });
  }
  return changes;
}

/** UAPI `set` lines for the changes (keys in hex), in one transaction. */
export function uapiLines(changes: PeerChange[], toHex: (key: string) => string): string[] {
  const lines: string[] = [];
  for (const change of changes) {
    if (change.kind === "remove") {
      lines.push(`public_key=${toHex(change.publicKey)}`, "remove=true");
      continue;
    }
    const { peer } = change;
    lines.push(`public_key=${toHex(peer.publicKey)}`);
    const isAdd = change.kind === "add";
    if (!isAdd) lines.push("update_only=true");
    if ((isAdd || change.endpoint) && peer.endpoint) lines.push(`endpoint=${peer.endpoint}`);
    if (isAdd || change.keepalive) lines.push(`persistent_keepalive_interval=${peer.persistentKeepalive}`);
    if (isAdd || change.allowedIps) {
      lines.push("replace_allowed_ips=true", ...peer.allowedIps.map((ip) => `allowed_ip=${ip}`));
    }
  }
  return lines;
}

/** `wg set IFACE ...` arguments for the same changes (kernel WireGuard), still one process. */
export function wgSetArgs(changes: PeerChange[]): string[] {
  const args: string[] = [];
  for (const change of changes) {
    if (change.kind === "remove") {
      args.push("peer", change.publicKey, "remove");
      continue;
    }
    const { peer } = change;
    const isAdd = change.kind === "add";
    args.push("peer", peer.publicKey);
    if ((isAdd || change.endpoint) && peer.endpoint) args.push("endpoint", peer.endpoint);
    if (isAdd || change.keepalive)
      args.push("persistent-keepalive", String(peer.persistentKeepalive || "off"));
    if (isAdd || change.allowedIps) args.push("allowed-ips", peer.allowedIps.join(","));
  }
  return args;
}
