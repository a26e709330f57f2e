import { RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { VpnPeer } from "../../wire/instructions/set-vpn-peers.js";
import { peersByKey } from "../host/peer-store.js";
import type { HostPorts } from "../host/ports.js";
import type { ApplyPeersResult } from "../host/wireguard.js";
import type { WgPeer } from "../host/wireguard-plan.js";
import { type SkippedPeer, validatePeers } from "./peer-validation.js";

export const overlayInterface = "wg0";

export interface ApplyVpnPeersResult extends ApplyPeersResult {
  skipped: SkippedPeer[];
  desired: number;
}

/**
 * The one path from a peer list (stream push or ManualSync pull) to wg0: validate each peer,
 * merge (additive) or replace (full state), apply in one transaction, persist the desired set.
 */
export async function applyVpnPeers(
  host: Pick<HostPorts, "wireguard" | "peerStore">,
  peers: VpnPeer[],
  fullState: boolean,
  log: Logger,
): Promise<ApplyVpnPeersResult> {
  const { wireguard, peerStore } = host;
  if (!wireguard.interfaceExists(overlayInterface)) {
    throw new RunosError(
      "NA_NOT_FOUND",
      "wg0 interface not found (is WireGuard installed and up? try `wg show`)",
      {
        hint: "run `runos install wireguard`",
      },
    );
  }
  const { valid, skipped } = validatePeers(peers);
  for (const peer of skipped) log.warn({ pubKey: peer.pubKey, reason: peer.reason }, "Skipping VPN peer");
  const stored = await peerStore.load(overlayInterface);
  const previous = peersByKey(stored?.peers);
  let desired: WgPeer[];
  if (fullState) desired = valid;
  else {
    const merged = new Map(previous);
    for (const peer of valid) merged.set(peer.publicKey, peer);
    desired = [...merged.values()];
  }
  const result = await wireguard.applyPeers(overlayInterface, desired, { removeOthers: fullState, previous });
  await peerStore.save(overlayInterface, desired, fullState || stored?.fullState === true);
  log.info({ ...result, skipped: skipped.length, desired: desired.length }, "VPN peers applied");
  return { ...result, skipped, desired: desired.length };
}
