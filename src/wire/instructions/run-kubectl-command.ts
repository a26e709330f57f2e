import * as z from "zod";
import { defineInstruction, str } from "./define.js";

export const RunKubectlCommand = defineInstruction({
  type: "RUN_KUBECTL_COMMAND",
  summary: "Run kubectl with the given argv (no shell).",
  payload: z.array(z.string()),
  answers: { KUBECTL_COMMAND_RESPONSE: z.object({ response: str() }) },
  since: 1,
});
