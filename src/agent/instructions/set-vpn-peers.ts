import { RunosError } from "../../common/errors.js";
import { SetVpnPeers } from "../../wire/instructions/set-vpn-peers.js";
import { peersByKey } from "../host/peer-store.js";
import type { WgPeer } from "../host/wireguard-plan.js";
import { defineHandler } from "./define.js";
import { validatePeers } from "./vpn-peer-validation.js";

const iface = "wg0";

/**
 * Programs wg0's peers in one transaction. An original control plane's list is additive (as the
 * original agent treated it); with `fullState` the list is the whole desired set and anything else
 * is removed. The desired set is persisted so a restart re-applies it without the control plane.
 */
export const setVpnPeers = defineHandler(SetVpnPeers, async (payload, ctx) => {
  const { wireguard, peerStore } = ctx.host;
  if (!wireguard.interfaceExists(iface)) {
    throw new RunosError(
      "NA_NOT_FOUND",
      "wg0 interface not found (is WireGuard installed and up? try `wg show`)",
    );
  }
  const { valid, skipped } = validatePeers(payload.peers);
  for (const peer of skipped) ctx.log.warn({ pubKey: peer.pubKey, reason: peer.reason }, "Skipping VPN peer");

  const stored = await peerStore.load(iface);
  const previous = peersByKey(stored?.peers);
  const fullState = payload.fullState === true;
  let desired: WgPeer[];
  if (fullState) desired = valid;
  else {
    const merged = new Map(previous);
    for (const peer of valid) merged.set(peer.publicKey, peer);
    desired = [...merged.values()];
  }
  const result = await wireguard.applyPeers(iface, desired, { removeOthers: fullState, previous });
  await peerStore.save(iface, desired, fullState || stored?.fullState === true);
  ctx.log.info({ ...result, skipped: skipped.length }, "VPN peers applied");

  return {
    type: "NODE_VPN_PEER",
    payload: {
      nodePeer: {
        pubKey: await wireguard.publicKey(),
        endpointIp: ctx.node().ip,
        vpnIp: wireguard.interfaceIpv4(iface),
      },
      skipped,
    },
  };
});
