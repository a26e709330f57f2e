import { RunosError } from "../../common/errors.js";
import { SetControlPlaneEndpoints } from "../../wire/instructions/set-control-plane-endpoints.js";
import { applyControlPlaneEndpoints } from "../kubeproxy/apply.js";
import { defineHandler } from "./define.js";

/** The full list of Kubernetes API endpoints for the local load balancer on 6446 (pushed by nodeward). */
export const setControlPlaneEndpoints = defineHandler(SetControlPlaneEndpoints, async (payload, ctx) => {
  const { haproxy } = ctx.host;
  if (!haproxy) throw new RunosError("NA_UNSUPPORTED", "this agent runs without an HAProxy port");
  const result = await applyControlPlaneEndpoints(haproxy, payload.endpoints, { source: "push" }, ctx.log);
  return {
    type: "CONTROL_PLANE_ENDPOINTS_APPLIED",
    payload: {
      endpoints: result.endpoints,
      changed: result.changed,
      action: result.action,
      skipped: result.skipped,
    },
  };
});
