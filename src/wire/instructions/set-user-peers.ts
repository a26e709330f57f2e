import * as z from "zod";
import { defineInstruction, str } from "./define.js";

/**
 * @since 2 runos: the complete set of wg1 (user access) peers of the node's cluster. Sent only to
 * agents that announce the `wg1-users` capability; an original agent never receives it.
 */
export const SetUserPeers = defineInstruction({
  type: "RUNOS_SET_USER_PEERS",
  summary: "Replace wg1's peers with the cluster's user devices (full state).",
  payload: z.object({
    peers: z
      .array(z.object({ pubKey: str(), vpnIp: str() }))
      .nullable()
      .default([])
      .transform((v) => v ?? []),
    /** This node is the users' gateway: it routes each user's /32 to wg1 (others route via wg0). */
    gateway: z.boolean().default(false),
  }),
  answers: {
    USER_PEERS_APPLIED: z.object({
      applied: z.number().int(),
      skipped: z.array(z.object({ pubKey: str(), reason: str() })),
    }),
  },
  since: 2,
});
