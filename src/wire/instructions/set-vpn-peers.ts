import * as z from "zod";
import { bool, defineInstruction, str } from "./define.js";

export const VpnPeer = z.object({
  pubKey: str(),
  endpointIp: str(),
  vpnIp: str(),
  /** @since 2 runos: extra allowed IPs (e.g. a control-plane VIP) beyond vpnIp/32. */
  allowedIps: z.array(z.string()).optional(),
  /** @since 2 runos: endpoint port when not 51820. */
  endpointPort: z.number().int().min(1).max(65535).optional(),
});
export type VpnPeer = z.infer<typeof VpnPeer>;

export const SetVpnPeers = defineInstruction({
  type: "SET_VPN_PEERS",
  summary: "Program wg0 peers (additive, or the full desired set when fullState is true).",
  payload: z.object({
    peers: z
      .array(VpnPeer)
      .nullable()
      .default([])
      .transform((v) => v ?? []),
    /** @since 2 runos: the list is the complete desired set; peers not in it are removed. */
    fullState: bool().optional(),
  }),
  answers: {
    NODE_VPN_PEER: z.object({
      nodePeer: z.object({ pubKey: str(), endpointIp: str(), vpnIp: str() }),
      /** @since 2 runos: peers that failed validation, with the reason. */
      skipped: z.array(z.object({ pubKey: str(), reason: str() })).optional(),
    }),
  },
  since: 1,
});
