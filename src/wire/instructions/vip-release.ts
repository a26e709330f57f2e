import * as z from "zod";
import { bool, defineInstruction, int64 } from "./define.js";

export const VipRelease = defineInstruction({
  type: "VIP_RELEASE",
  summary: "Drop the control-plane VIP. Always answered.",
  payload: z.object({
    generation: int64(),
    /** @since 2 runos: the VIP to drop; without it the agent derives it from its wg0 address. */
    vip: z.ipv4().optional(),
  }),
  answers: { VIP_RELEASE_RESPONSE: z.object({ ok: bool(), message: z.string().optional() }) },
  since: 1,
});
