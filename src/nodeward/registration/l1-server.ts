import type { Logger } from "../../common/log.js";
import {
  Nodeward as L1Service,
  type NodeRegistrationRequest,
} from "../../wire/gen/runos/nodeward/proto/l1sec/nodeward_l1sec_pb.js";
import { addTypedService, grpc } from "../../wire/grpc.js";
import type { ServerCert } from "../ca/server-cert.js";
import { serverOptions, unary, unimplementedUnary } from "../grpc-server.js";
import { type EnrolmentDeps, enrolNode } from "./enrolment.js";

/** L1Sec: enrolment over server-only TLS. The token is the only credential here. */
export function createL1Server(deps: EnrolmentDeps, log: Logger): grpc.Server {
  const server = new grpc.Server(serverOptions);
  addTypedService(server, L1Service, {
    register: unary(log, "Register", async (call: grpc.ServerUnaryCall<NodeRegistrationRequest, unknown>) => {
      const r = call.request;
      const enrolment = await enrolNode(deps, {
        machineId: r.machineId,
        aid: r.aid,
        token: r.token,
        os: r.os,
        csr: r.csr,
        hostname: r.hostname,
      });
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

export function serverTlsCredentials(cert: ServerCert): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(
    null,
    [{ cert_chain: Buffer.from(cert.chainPem), private_key: Buffer.from(cert.keyPem) }],
    false,
  );
}
