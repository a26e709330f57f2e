import { RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { HostPorts } from "../host/ports.js";
import { describeGrpcError, type L2Client } from "../link/clients.js";
import { type ApplyVpnPeersResult, applyVpnPeers, overlayInterface } from "./apply-peers.js";

/**
 * Pulls this node's peer set (ManualSync, spec 7.3) and applies it. A runos control plane marks
 * its answer as the full desired set; an original one's is applied additively.
 */
export async function syncVpn(
  client: L2Client,
  host: HostPorts,
  node: { ip: string },
  log: Logger,
): Promise<ApplyVpnPeersResult> {
  const vpnIp = host.wireguard.interfaceIpv4(overlayInterface);
  if (!host.wireguard.interfaceExists(overlayInterface)) {
    throw new RunosError(
      "NA_NOT_FOUND",
      "wg0 interface not found (is WireGuard installed and up? try `wg show`)",
      {
        hint: "run `runos install wireguard`",
      },
    );
  }
  if (!vpnIp) throw new RunosError("NA_NOT_FOUND", "wg0 has no usable IPv4 address");
  const pubKey = await host.wireguard.publicKey();
  if (!pubKey) {
    throw new RunosError(
      "NA_NOT_FOUND",
      "WireGuard public key is empty (expected /etc/wireguard/public_key)",
    );
  }
  let response: Awaited<ReturnType<L2Client["manualSync"]>>;
  try {
    response = await client.manualSync(
      {
        nodePeer: { pubKey, endpointIp: node.ip, ip: vpnIp },
        nodeIsReady: await host.kube.nodeIsReady(host.system.hostname()),
      },
      { deadlineMs: 30_000 },
    );
  } catch (err) {
    throw describeGrpcError(err, "ManualSync");
  }
  const peers = response.peers.map((p) => ({
    pubKey: p.pubKey,
    endpointIp: p.endpointIp,
    vpnIp: p.ip,
    allowedIps: p.allowedIps.length > 0 ? p.allowedIps : undefined,
    endpointPort: p.endpointPort > 0 ? p.endpointPort : undefined,
  }));
  return applyVpnPeers(host, peers, response.fullState, log);
}
