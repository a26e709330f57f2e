import { GetNodeStatus } from "../../wire/instructions/get-node-status.js";
import { defineHandler } from "./define.js";

export const getNodeStatus = defineHandler(GetNodeStatus, async (_payload, ctx) => ({
  type: "NODE_STATUS",
  payload: {
    nodeIsReady: await ctx.host.kube.nodeIsReady(ctx.host.system.hostname()),
    version: ctx.host.system.agentVersion(),
    hostname: ctx.host.system.hostname(),
    uptimeSeconds: ctx.host.system.uptimeSeconds(),
  },
}));
