import * as z from "zod";
import { bool, defineInstruction, int64 } from "./define.js";

export const VipRelease = defineInstruction({
  type: "VIP_RELEASE",
  summary: "Drop the control-plane VIP. Always answered.",
  payload: z.object({ generation: int64() }),
  answers: { VIP_RELEASE_RESPONSE: z.object({ ok: bool(), message: z.string().optional() }) },
  since: 1,
});
