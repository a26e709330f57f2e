import * as z from "zod";
import { defineInstruction, noContent, str } from "./define.js";

export const ApplyOperator = defineInstruction({
  type: "APPLY_OPERATOR",
  summary: "kubectl apply a base64 CRD/operator manifest.",
  payload: z.object({ crdB64: str() }),
  answers: { NO_CONTENT: noContent },
  since: 1,
});
