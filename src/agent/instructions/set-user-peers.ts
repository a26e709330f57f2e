import { RunosError } from "../../common/errors.js";
import { SetUserPeers } from "../../wire/instructions/set-user-peers.js";
import { validatePeers } from "../vpn/peer-validation.js";
import { defineHandler } from "./define.js";

const iface = "wg1";

/** wg1 carries user devices (laptops): full desired set, no endpoints (users roam), no keepalive. */
export const setUserPeers = defineHandler(SetUserPeers, async (payload, ctx) => {
  const { wireguard } = ctx.host;
  if (!wireguard.interfaceExists(iface)) {
    throw new RunosError(
      "NA_NOT_FOUND",
      "wg1 interface not found (is the VPN installed? `runos install wireguard`)",
    );
  }
  const { valid, skipped } = validatePeers(
    payload.peers.map((p) => ({ pubKey: p.pubKey, endpointIp: "", vpnIp: p.vpnIp })),
  );
  for (const peer of skipped)
    ctx.log.warn({ pubKey: peer.pubKey, reason: peer.reason }, "Skipping user peer");
  const desired = valid.map((p) => ({ ...p, persistentKeepalive: 0 }));
  const result = await wireguard.applyPeers(iface, desired, { removeOthers: true });
  // Only the gateway routes users to wg1; every other node reaches them over wg0 via the gateway.
  const routes = await ctx.host.routes.syncHostRoutes(
    iface,
    payload.gateway ? desired.map((p) => (p.allowedIps[0] ?? "").split("/")[0] ?? "") : [],
  );
  ctx.log.info(
    { ...result, routes, gateway: payload.gateway, skipped: skipped.length },
    "user peers applied",
  );
  return { type: "USER_PEERS_APPLIED", payload: { applied: desired.length, skipped } };
});
