import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { Envelope } from "../../wire/envelope.js";
import type {
  FromNodeAgent,
  ToNodeAgent,
} from "../../wire/gen/runos/nodeward/proto/l2sec/nodeward_l2sec_pb.js";
import { grpc, grpcError } from "../../wire/grpc.js";
import type { Admission } from "./admission.js";
import type { Hub } from "./hub.js";
import { handleInbound, type InboundDeps } from "./inbound.js";
import { type IdentityDeps, identifyPeer } from "./peer-identity.js";

export interface AgentStreamDeps {
  identity: IdentityDeps;
  hub: Hub;
  inbound: InboundDeps;
  log: Logger;
  /** Bounds how fast new sessions are accepted (reconnect storms). */
  admission?: Admission;
}

type StreamCall = grpc.ServerDuplexStream<FromNodeAgent, Partial<ToNodeAgent>>;

/**
 * NodeAgentStream: authenticate the certificate, open the node's session (ending an older
 * one), then feed every message to the inbound router until either side ends the stream.
 */
export function agentStreamHandler(
  deps: AgentStreamDeps,
): grpc.handleBidiStreamingCall<FromNodeAgent, Partial<ToNodeAgent>> {
  return (call: StreamCall) => {
    identifyPeer(call, deps.identity).then(
      (identity) => {
        if (call.cancelled) return;
        if (deps.admission && !deps.admission.tryAdmit()) {
          call.emit("error", deps.admission.refusal());
          return;
        }
        const session = deps.hub.open(
          call as unknown as Parameters<Hub["open"]>[0],
          identity,
          peerAddress(call),
        );
        call.on("data", (message: FromNodeAgent) => {
          try {
            handleInbound(session, message as Envelope, deps.inbound);
          } catch (err) {
            deps.log.warn({ nid: identity.nid, err: errorMessage(err) }, "agent message dropped");
          }
        });
        // the agent half-closed: finish our side too
        call.on("end", () => session.close("the agent ended the stream"));
        call.on("cancelled", () => session.close("the stream was cancelled", undefined, true));
        call.on("close", () => session.close("the stream closed", undefined, true));
        call.on("error", (err) => session.close(`stream error: ${errorMessage(err)}`, undefined, true));
      },
      (err: unknown) => {
        const refusal =
          err instanceof Error && typeof (err as grpc.ServiceError).code === "number"
            ? (err as grpc.ServiceError)
            : grpcError(grpc.status.INTERNAL, "could not authenticate the stream");
        if (refusal.code === grpc.status.INTERNAL) deps.log.error({ err }, "stream authentication failed");
        else deps.log.info({ peer: peerAddress(call), reason: refusal.details }, "agent stream refused");
        call.emit("error", refusal);
      },
    );
  };
}

function peerAddress(call: StreamCall): string {
  try {
    return call.getPeer();
  } catch {
    return "unknown";
  }
}
