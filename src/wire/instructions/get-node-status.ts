import * as z from "zod";
import { bool, defineInstruction } from "./define.js";

export const GetNodeStatus = defineInstruction({
  type: "GET_NODE_STATUS",
  summary: "Report whether the Kubernetes node is Ready.",
  payload: z.object({}),
  answers: {
    NODE_STATUS: z.object({
      nodeIsReady: bool(),
      /** @since 2 runos: agent version, for operators. */
      version: z.string().optional(),
      /** @since 2 runos: OS host name. */
      hostname: z.string().optional(),
      /** @since 2 runos: seconds since the agent process started. */
      uptimeSeconds: z.number().optional(),
    }),
  },
  since: 1,
});
