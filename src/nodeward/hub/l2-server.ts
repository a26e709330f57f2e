import type { Logger } from "../../common/log.js";
import { Nodeward as L2Service } from "../../wire/gen/runos/nodeward/proto/l2sec/nodeward_l2sec_pb.js";
import { addTypedService, grpc } from "../../wire/grpc.js";
import { serverOptions, unimplementedBidi, unimplementedUnary } from "../grpc-server.js";
import { type AgentStreamDeps, agentStreamHandler } from "./agent-stream.js";
import { type UnaryDeps, unaryHandlers } from "./l2-unary.js";

/** L2Sec: everything a registered node does, over mutual TLS with certificates from our CA. */
export function createL2Server(deps: UnaryDeps & { stream: AgentStreamDeps }, log: Logger): grpc.Server {
  const server = new grpc.Server(serverOptions);
  addTypedService(server, L2Service, {
    ...unaryHandlers({ ...deps, log }),
    nodeAgentStream: agentStreamHandler(deps.stream),
    getNodeRegistrationToken: unimplementedUnary("GetNodeRegistrationToken"),
    getClusterAgentCredentials: unimplementedUnary("GetClusterAgentCredentials"),
    updateNodeInstallationStatus: unimplementedUnary("UpdateNodeInstallationStatus"),
    communicate: unimplementedBidi("Communicate"),
    clusterAgentStream: unimplementedBidi("ClusterAgentStream"),
    serverAgentStream: unimplementedBidi("ServerAgentStream"),
  });
  return server;
}
