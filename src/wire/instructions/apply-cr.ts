import * as z from "zod";
import { defineInstruction, noContent, str } from "./define.js";

export const ApplyCr = defineInstruction({
  type: "APPLY_CR",
  summary: "kubectl apply a base64 YAML manifest.",
  payload: z.object({ crB64: str() }),
  answers: { NO_CONTENT: noContent },
  since: 1,
});
