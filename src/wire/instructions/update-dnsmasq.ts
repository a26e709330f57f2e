import * as z from "zod";
import { defineInstruction, noContent, str } from "./define.js";

export const UpdateDnsmasq = defineInstruction({
  type: "UPDATE_DNSMASQ",
  summary: "Replace /etc/dnsmasq.d/runos.conf (allow-listed directives) and restart dnsmasq.",
  payload: z.object({ fileContents: str() }),
  answers: { NO_CONTENT: noContent },
  since: 1,
});
