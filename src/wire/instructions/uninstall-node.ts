import * as z from "zod";
import { defineInstruction, noContent } from "./define.js";

export const UninstallNode = defineInstruction({
  type: "UNINSTALL_NODE",
  summary: "Remove Kubernetes and runos from the node.",
  payload: z.unknown(),
  answers: { NO_CONTENT: noContent },
  since: 1,
});
