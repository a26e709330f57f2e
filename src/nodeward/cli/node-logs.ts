import type { nodelogView } from "../api/node-view.js";
import type { ApiClient } from "./api-client.js";
import { table } from "./format.js";
import type { CommandResult } from "./io.js";

const severity: Record<number, string> = { 1: "error", 2: "warn", 3: "info" };

/** `nodeward node logs NID`: the node's event log, oldest first. */
export async function nodeLogs(
  nid: string,
  options: { limit?: string },
  api: ApiClient,
): Promise<CommandResult> {
  const query = options.limit ? `?limit=${encodeURIComponent(options.limit)}` : "";
  const result = await api.get<{ nid: string; logs: ReturnType<typeof nodelogView>[] }>(
    `/api/nodes/${encodeURIComponent(nid)}/logs${query}`,
  );
  if (result.logs.length === 0) return { data: result, human: `no log entries for ${nid}` };
  const rows = result.logs.map((l) => [
    l.time ?? "",
    severity[l.severity] ?? String(l.severity),
    l.type,
    [l.message, l.code && `[${l.code}]`, l.remedy && `fix: ${l.remedy}`].filter(Boolean).join(" "),
  ]);
  return { data: result, human: table(["TIME", "SEVERITY", "TYPE", "MESSAGE"], rows) };
}
