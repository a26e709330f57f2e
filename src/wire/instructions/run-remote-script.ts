import * as z from "zod";
import { bool, defineInstruction, str } from "./define.js";

export const RunRemoteScript = defineInstruction({
  type: "RUN_REMOTE_SCRIPT",
  summary: "Fetch an installer script by name and run it.",
  payload: z.object({
    script: str(),
    params: z.record(z.string(), z.string()).nullable().optional(),
    runInBackground: bool(),
  }),
  answers: { RUN_REMOTE_SCRIPT_RESPONSE: z.object({ response: str() }) },
  since: 1,
});
