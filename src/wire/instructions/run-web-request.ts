import * as z from "zod";
import { bool, defineInstruction, str } from "./define.js";

export const RunWebRequest = defineInstruction({
  type: "RUN_WEB_REQUEST",
  summary: "Make an HTTP request from the node (SSRF-guarded).",
  payload: z.object({
    url: str(),
    method: str(),
    postData: str(),
    allowInsecure: bool(),
    headers: z.record(z.string(), z.string()).nullable().optional(),
  }),
  answers: { RUN_WEB_REQUEST: z.object({ responseBody: str(), responseStatusCode: str() }) },
  since: 1,
});
