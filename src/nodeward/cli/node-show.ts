import type { certificateView, NodeView } from "../api/node-view.js";
import type { ApiClient } from "./api-client.js";
import { ago, dash, fields, table } from "./format.js";
import type { CommandResult } from "./io.js";

type NodeDetail = NodeView & { certificates: ReturnType<typeof certificateView>[] };

/** `nodeward node show NID`: everything known about one node, certificates included. */
export async function nodeShow(nid: string, api: ApiClient): Promise<CommandResult> {
  const node = await api.get<NodeDetail>(`/api/nodes/${encodeURIComponent(nid)}`);
  const overview = fields([
    ["nid", node.nid],
    ["state", node.state],
    ["account", node.aid],
    ["cluster", node.cluster],
    ["hostname", dash(node.hostname)],
    ["os", node.os],
    ["machine id", node.machineId],
    ["agent version", dash(node.version)],
    ["capabilities", node.agent ? node.agent.capabilities.join(", ") || "-" : "-"],
    [
      "last heartbeat",
      node.lastHeartbeatAt ? `${node.lastHeartbeatAt} (${ago(node.lastHeartbeatAt)})` : "never",
    ],
    ["observed address", dash(node.observedAddr)],
    ["external ip", dash(node.externalIp)],
    ["node ip", dash(node.nodeIp)],
    ["vpn ip", dash(node.vpnIp)],
    [
      "kubernetes",
      `${dash(node.k8sStatus)}${node.isCp ? " control-plane" : ""}${node.isWorker ? " worker" : ""}`,
    ],
    ["install status", node.installStatus ? `${node.installStatus} (${node.installStatusAt})` : "-"],
    ["registered", dash(node.createdAt)],
    ...(node.deletedAt ? ([["deleted", node.deletedAt]] as [string, string][]) : []),
    ...(node.replacedBy ? ([["replaced by", node.replacedBy]] as [string, string][]) : []),
  ]);
  const certs = table(
    ["SERIAL", "NOT AFTER", "STATUS"],
    node.certificates.map((c) => [
      c.serial,
      dash(c.notAfter),
      c.revokedAt ? `revoked ${c.revokedAt}` : c.supersededAt ? `superseded ${c.supersededAt}` : "current",
    ]),
  );
  return { data: node, human: `${overview}\n\ncertificates:\n${certs}` };
}
