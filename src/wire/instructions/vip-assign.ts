import * as z from "zod";
import { bool, defineInstruction, int64 } from "./define.js";

export const VipAssign = defineInstruction({
  type: "VIP_ASSIGN",
  summary: "Bind the cluster's control-plane VIP (fenced by generation). No answer on failure.",
  payload: z.object({
    generation: int64(),
    /** @since 2 runos: the VIP (172.24.<c>.254); without it the agent derives it from its wg0 address. */
    vip: z.ipv4().optional(),
  }),
  answers: {
    VIP_ASSIGN_RESPONSE: z.object({
      ok: bool(),
      /** @since 2 runos: why an assign was not applied (e.g. stale generation). */
      message: z.string().optional(),
    }),
  },
  since: 1,
});
