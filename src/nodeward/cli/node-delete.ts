import type { ApiClient } from "./api-client.js";
import type { CommandResult } from "./io.js";

/** `nodeward node delete NID`: the node loses its certificates and its stream. */
export async function nodeDelete(nid: string, api: ApiClient): Promise<CommandResult> {
  const result = await api.delete<{ nid: string; revoked: number }>(`/api/nodes/${encodeURIComponent(nid)}`);
  return {
    data: result,
    human: `deleted ${result.nid} (${result.revoked} certificate${result.revoked === 1 ? "" : "s"} revoked)`,
  };
}
