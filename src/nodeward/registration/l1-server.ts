import type { Logger } from "../../common/log.js";
import {
  Nodeward as L1Service,
  type NodeRegistrationRequest,
} from "../../wire/gen/runos/nodeward/proto/l1sec/nodeward_l1sec_pb.js";
import { addTypedService, grpc } from "../../wire/grpc.js";
import { serverOptions, unary, unimplementedUnary } from "../grpc-server.js";
import { type EnrolmentDeps, enrolNode } from "./enrolment.js";
import type { RegistrationLimit } from "./registration-limit.js";

/** L1Sec: enrolment over server-only TLS. The token is the only credential here. */
export function createL1Server(deps: EnrolmentDeps & { limit: RegistrationLimit }, log: Logger): grpc.Server {
  const server = new grpc.Server(serverOptions);
  addTypedService(server, L1Service, {
    register: unary(log, "Register", async (call: grpc.ServerUnaryCall<NodeRegistrationRequest, unknown>) => {
      const r = call.request;
      const enrolment = await deps.limit.run(() =>
        enrolNode(deps, {
          machineId: r.machineId,
          aid: r.aid,
          token: r.token,
          os: r.os,
          csr: r.csr,
          hostname: r.hostname,
        }),
      );
      return {
        nid: enrolment.nid,
        publicKey: enrolment.certPem,
        caCert: enrolment.caCertPem,
        privateKey: enrolment.keyPem,
      };
    }),
    serverRegister: unimplementedUnary("ServerRegister"),
  });
  return server;
}
