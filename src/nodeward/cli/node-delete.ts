import type { ApiClient } from "./api-client.js";
import type { CommandResult } from "./io.js";

/**
 * `nodeward node delete NID [--force]`: the node loses its certificates and its stream; a
 * Kubernetes control plane loses its etcd member first (--force skips that).
 */
export async function nodeDelete(
  nid: string,
  options: { force?: boolean },
  api: ApiClient,
): Promise<CommandResult> {
  const query = options.force ? "?force=true" : "";
  const result = await api.delete<{ nid: string; revoked: number; etcdMemberRemoved?: boolean }>(
    `/api/nodes/${encodeURIComponent(nid)}${query}`,
  );
  const etcd = result.etcdMemberRemoved ? ", etcd member removed first" : "";
  return {
    data: result,
    human: `deleted ${result.nid} (${result.revoked} certificate${result.revoked === 1 ? "" : "s"} revoked${etcd})`,
  };
}
