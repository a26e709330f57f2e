import * as z from "zod";
import { bool, defineInstruction, str } from "./define.js";

/**
 * @since 2 runos: the complete list of the cluster's Kubernetes API endpoints (`https://IP:6443`,
 * the format of the `GetControlPlaneNodes` stream answer) for the node's local load balancer on
 * port 6446. Pushed on every change, only to agents announcing `cp-endpoints-push`; an original
 * agent keeps polling `GetControlPlaneNodes` instead. An empty list is refused (the agent keeps
 * its backends).
 */
export const SetControlPlaneEndpoints = defineInstruction({
  type: "RUNOS_SET_CONTROL_PLANE_ENDPOINTS",
  summary: "Replace the backends of the node's Kubernetes API load balancer (full state).",
  payload: z.object({
    endpoints: z
      .array(z.string())
      .nullable()
      .default([])
      .transform((v) => v ?? []),
  }),
  answers: {
    CONTROL_PLANE_ENDPOINTS_APPLIED: z.object({
      /** The backends HAProxy now has (normalised `host:port`). */
      endpoints: z.array(z.string()),
      /** False when HAProxy already had exactly this set (nothing was reloaded). */
      changed: bool(),
      /** `unchanged`, `reloaded` or `started`. */
      action: str(),
      skipped: z.array(z.object({ endpoint: str(), reason: str() })),
    }),
  },
  since: 2,
});
