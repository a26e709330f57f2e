import { RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { VpnPeer } from "../../wire/instructions/set-vpn-peers.js";
import { peersByKey } from "../host/peer-store.js";
import type { HostPorts } from "../host/ports.js";
import type { PeerChange, WgPeer } from "../host/wireguard-plan.js";
import { overlayInterface } from "./apply-peers.js";
import { type SkippedPeer, validatePeers } from "./peer-validation.js";

export interface DeltaResult {
  added: number;
  updated: number;
  removed: number;
  skipped: SkippedPeer[];
}

const sameList = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

/**
 * Applies a delta against the persisted desired set: only the named peers are touched, in one
 * transaction, without reading the whole device back. Without a persisted full set there is no
 * baseline, and the control plane must send the full set instead.
 */
export async function applyVpnPeersDelta(
  host: Pick<HostPorts, "wireguard" | "peerStore">,
  upsert: VpnPeer[],
  remove: string[],
  log: Logger,
): Promise<DeltaResult> {
  const stored = await host.peerStore.load(overlayInterface);
  if (!stored?.fullState) {
    throw new RunosError("NA_CONFLICT", "no full peer set to apply a delta to; send the full set");
  }
  if (!host.wireguard.interfaceExists(overlayInterface)) {
    throw new RunosError(
      "NA_NOT_FOUND",
      "wg0 interface not found (is WireGuard installed and up? try `wg show`)",
    );
  }
  const { valid, skipped } = validatePeers(upsert);
  for (const peer of skipped) log.warn({ pubKey: peer.pubKey, reason: peer.reason }, "Skipping VPN peer");
  const desired = peersByKey(stored.peers);
  const changes: PeerChange[] = [];
  for (const peer of valid) {
    const before = desired.get(peer.publicKey);
    desired.set(peer.publicKey, peer);
    if (!before) {
      changes.push({ kind: "add", peer });
      continue;
    }
    const endpoint = before.endpoint !== peer.endpoint && peer.endpoint !== "";
    const allowedIps = !sameList(before.allowedIps, peer.allowedIps);
    const keepalive = before.persistentKeepalive !== peer.persistentKeepalive;
    if (endpoint || allowedIps || keepalive)
      changes.push({ kind: "update", peer, endpoint, allowedIps, keepalive });
  }
  for (const key of remove) {
    if (desired.delete(key)) changes.push({ kind: "remove", publicKey: key });
  }
  await host.wireguard.applyChanges(overlayInterface, changes);
  const next: WgPeer[] = [...desired.values()];
  await host.peerStore.save(overlayInterface, next, true);
  const count = (kind: PeerChange["kind"]) => changes.filter((c) => c.kind === kind).length;
  const result = { added: count("add"), updated: count("update"), removed: count("remove"), skipped };
  log.info({ ...result, skipped: skipped.length, desired: next.length }, "VPN peer delta applied");
  return result;
}
