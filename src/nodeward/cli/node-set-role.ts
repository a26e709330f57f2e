import { RunosError } from "../../common/errors.js";
import type { ApiClient } from "./api-client.js";
import type { CommandResult } from "./io.js";

const roles = ["control-plane", "worker"] as const;

/** `nodeward node set-role NID control-plane|worker` (Kubernetes facts will set it later). */
export async function nodeSetRole(nid: string, role: string, api: ApiClient): Promise<CommandResult> {
  if (!(roles as readonly string[]).includes(role)) {
    throw new RunosError("NA_USAGE", `invalid role "${role}": expected control-plane or worker`);
  }
  const result = await api.put<{ nid: string; role: string }>(`/api/nodes/${encodeURIComponent(nid)}/role`, {
    role,
  });
  return { data: result, human: `${result.nid} is now ${result.role}` };
}
