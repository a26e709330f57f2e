import { SetVpnPeers } from "../../wire/instructions/set-vpn-peers.js";
import { applyVpnPeers, overlayInterface } from "../vpn/apply-peers.js";
import { defineHandler } from "./define.js";

/**
 * Programs wg0's peers in one transaction. An original control plane's list is additive (as the
 * original agent treated it); with `fullState` the list is the whole desired set.
 */
export const setVpnPeers = defineHandler(SetVpnPeers, async (payload, ctx) => {
  const { skipped } = await applyVpnPeers(ctx.host, payload.peers, payload.fullState === true, ctx.log);
  return {
    type: "NODE_VPN_PEER",
    payload: {
      nodePeer: {
        pubKey: await ctx.host.wireguard.publicKey(),
        endpointIp: ctx.node().ip,
        vpnIp: ctx.host.wireguard.interfaceIpv4(overlayInterface),
      },
      skipped,
    },
  };
});
