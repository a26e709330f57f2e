import { RunosError } from "../../common/errors.js";
import { Nodeward as L1Nodeward } from "../../wire/gen/runos/nodeward/proto/l1sec/nodeward_l1sec_pb.js";
import { Nodeward as L2Nodeward } from "../../wire/gen/runos/nodeward/proto/l2sec/nodeward_l2sec_pb.js";
import { createTypedClient, grpc, type TypedClient } from "../../wire/grpc.js";
import type { Identity } from "../identity/files.js";
import { type ControlPlaneEndpoint, channelOptions, hostPort } from "./endpoints.js";

export type L1Client = TypedClient<(typeof L1Nodeward)["method"]>;
export type L2Client = TypedClient<(typeof L2Nodeward)["method"]>;

/** Enrolment channel: server-authenticated TLS, trusting only the given CA. */
export function createL1Client(endpoint: ControlPlaneEndpoint, caPem: string): L1Client {
  const credentials = grpc.credentials.createSsl(Buffer.from(caPem));
  return createTypedClient(
    L1Nodeward,
    hostPort(endpoint.host, endpoint.l1Port),
    credentials,
    channelOptions(endpoint.host),
  );
}

/** Operations channel: mutual TLS with the node's identity. */
export function createL2Client(endpoint: ControlPlaneEndpoint, identity: Identity): L2Client {
  let credentials: grpc.ChannelCredentials;
  try {
    credentials = grpc.credentials.createSsl(
      Buffer.from(identity.caPem),
      Buffer.from(identity.keyPem),
      Buffer.from(identity.certPem),
    );
  } catch (err) {
    throw new RunosError(
      "NA_CERT_INVALID",
      `the node's mTLS identity cannot be loaded: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return createTypedClient(
    L2Nodeward,
    hostPort(endpoint.host, endpoint.l2Port),
    credentials,
    channelOptions(endpoint.host),
  );
}

/** Resolves once the channel is connected (TCP + TLS handshake), or throws NA_UNREACHABLE. */
export function waitForReady(client: { raw: grpc.Client }, timeoutMs: number, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.raw.waitForReady(new Date(Date.now() + timeoutMs), (err) =>
      err
        ? reject(
            new RunosError("NA_UNREACHABLE", `could not connect to ${where}: ${err.message}`, { cause: err }),
          )
        : resolve(),
    );
  });
}

/** Maps a gRPC failure to a RunosError with a remedy a person can act on. */
export function describeGrpcError(err: unknown, where: string): RunosError {
  const code = (err as { code?: number }).code;
  const details = (err as { details?: string }).details ?? (err as Error).message ?? String(err);
  switch (code) {
    case grpc.status.PERMISSION_DENIED:
      return new RunosError("NA_TOKEN_REJECTED", details, {
        hint: "tokens are short-lived and single-use: create a new one with `nodeward token create`",
      });
    case grpc.status.UNAUTHENTICATED:
      return new RunosError(
        "NA_CERT_INVALID",
        `the control plane refused this node's certificate: ${details}`,
        {
          hint: "register the node again with a new token",
        },
      );
    case grpc.status.INVALID_ARGUMENT:
    case grpc.status.NOT_FOUND:
      return new RunosError("NA_INVALID_INPUT", details);
    case grpc.status.FAILED_PRECONDITION:
      return new RunosError("NA_CONFLICT", details);
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return new RunosError("NA_UNREACHABLE", `could not reach the control plane at ${where}: ${details}`, {
        hint: "check the address, DNS and that outbound TCP to the control plane's ports is allowed",
      });
    default:
      return new RunosError("NA_INTERNAL", `${where}: ${details}`, { cause: err });
  }
}
