import * as z from "zod";
import { RunosError } from "../common/errors.js";
import { bool, int64, str } from "./instructions/define.js";

/** Messages the agent originates on NodeAgentStream, and their answers (spec 3.5-3.8). */
export const MessageType = {
  heartbeat: "NodeAgentHeartbeatToServer",
  heartbeatAnswer: "NodeAgentHeartbeatToServerResponse",
  amIVipHolder: "AmIVIPHolder",
  amIVipHolderAnswer: "AmIVIPHolderResponse",
  getControlPlaneNodes: "GetControlPlaneNodes",
  getControlPlaneNodesAnswer: "GetControlPlaneNodesResponse",
  upgradeLog: "UpgradeNodeK8sLog",
  /** @since 2 runos: capability exchange; an original control plane ignores or rejects it. */
  agentHello: "RUNOS_AGENT_HELLO",
  nodewardHello: "RUNOS_NODEWARD_HELLO",
} as const;

export const Heartbeat = z.object({
  externalIpAddress: str(),
  isCp: bool(),
  isWorker: bool(),
  status: str(),
  version: str(),
  /** @since 2 runos: the underlay address the node advertises (config node.ip). */
  nodeIp: z.string().optional(),
  /** @since 2 runos: wg0 overlay IPv4, empty when wg0 is absent. */
  vpnIp: z.string().optional(),
  /** @since 2 runos */
  hostname: z.string().optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

export const HeartbeatAnswer = z.object({ isHealthy: bool(), message: str() });
export type HeartbeatAnswer = z.infer<typeof HeartbeatAnswer>;

export const AmIVipHolderAnswer = z.object({
  isHolder: bool(),
  generation: int64(),
  /** @since 2 runos: the cluster's VIP (172.24.<c>.254); an original control plane sends none. */
  vip: z.ipv4().optional(),
});
export type AmIVipHolderAnswer = z.infer<typeof AmIVipHolderAnswer>;

export const ControlPlaneEndpoints = z
  .array(z.string())
  .nullable()
  .transform((v) => v ?? []);

export const UpgradeLog = z.object({ message: str(), severity: z.number().int() });

export const AgentHello = z.object({
  version: str(),
  capabilities: z.array(z.string()).default([]),
});
export type AgentHello = z.infer<typeof AgentHello>;

export const NodewardHello = z.object({
  version: str(),
  capabilities: z.array(z.string()).default([]),
  nid: z.string().optional(),
});
export type NodewardHello = z.infer<typeof NodewardHello>;

/** Validates at the edge: a typed value or one clear NA_INVALID_INPUT error. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new RunosError("NA_INVALID_INPUT", `invalid ${what}: ${z.prettifyError(result.error)}`);
}
