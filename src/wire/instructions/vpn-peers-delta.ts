import * as z from "zod";
import { defineInstruction, str } from "./define.js";
import { VpnPeer } from "./set-vpn-peers.js";

/**
 * @since 2 runos: a change to the node's desired peer set, sized by the change and not by the
 * cluster (a join sends one peer to each node). Sent only to agents announcing `peers-delta` that
 * already hold a full set; an agent without one answers ERROR and gets the full set instead.
 */
export const VpnPeersDelta = defineInstruction({
  type: "RUNOS_VPN_PEERS_DELTA",
  summary: "Add or update some wg0 peers and remove others, relative to the last full set.",
  payload: z.object({
    upsert: z
      .array(VpnPeer)
      .nullable()
      .default([])
      .transform((v) => v ?? []),
    remove: z
      .array(z.string())
      .nullable()
      .default([])
      .transform((v) => v ?? []),
  }),
  answers: {
    VPN_PEERS_DELTA_APPLIED: z.object({
      added: z.number().int(),
      updated: z.number().int(),
      removed: z.number().int(),
      skipped: z.array(z.object({ pubKey: str(), reason: str() })),
    }),
  },
  since: 2,
});
