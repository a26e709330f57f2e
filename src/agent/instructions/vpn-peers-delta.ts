import { VpnPeersDelta } from "../../wire/instructions/vpn-peers-delta.js";
import { applyVpnPeersDelta } from "../vpn/apply-delta.js";
import { defineHandler } from "./define.js";

export const vpnPeersDelta = defineHandler(VpnPeersDelta, async (payload, ctx) => ({
  type: "VPN_PEERS_DELTA_APPLIED",
  payload: await applyVpnPeersDelta(ctx.host, payload.upsert, payload.remove, ctx.log),
}));
