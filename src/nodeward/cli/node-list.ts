import type { NodeView } from "../api/node-view.js";
import type { ApiClient } from "./api-client.js";
import { ago, dash, table } from "./format.js";
import type { CommandResult } from "./io.js";

export type Paint = (text: string) => string;

/** `nodeward node list`: every live node with its presence. */
export async function nodeList(
  options: { all?: boolean },
  api: ApiClient,
  paint: { green: Paint; red: Paint },
): Promise<CommandResult> {
  const { nodes } = await api.get<{ nodes: NodeView[] }>(`/api/nodes${options.all ? "?all=true" : ""}`);
  if (nodes.length === 0)
    return { data: { nodes }, human: "no nodes registered yet (create a token: nodeward token create)" };
  const rows = nodes.map((n) => [
    n.nid,
    n.state === "online" ? paint.green(n.state) : paint.red(n.state),
    dash(n.hostname),
    n.cluster,
    n.role,
    // Kubernetes as the node's heartbeat reports it: ready, not_ready, cordoned, not_installed.
    dash(n.k8sStatus),
    dash(n.version),
    ago(n.lastHeartbeatAt),
    dash(n.observedAddr),
  ]);
  return {
    data: { nodes },
    human: table(
      ["NID", "STATE", "HOSTNAME", "CLUSTER", "ROLE", "KUBERNETES", "VERSION", "LAST HEARTBEAT", "ADDRESS"],
      rows,
    ),
  };
}
