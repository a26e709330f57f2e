import { RunosError } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import type { grpc } from "../wire/grpc.js";
import type { ServerCert } from "./ca/server-cert.js";
import type { NodewardConfig } from "./config.js";
import { type GatedListener, listenGated } from "./transport/gated-tls-listener.js";
import type { GateCounters } from "./transport/handshake-gate.js";
import type { PeerCertificates } from "./transport/peer-certificates.js";

export interface GrpcListeners {
  l1: number;
  l2: number;
  /** Handshake gate figures of both listeners (what a storm looks like from here). */
  counters(): { l1: GateCounters; l2: GateCounters };
  close(): Promise<void>;
}

type ListenerConfig = Pick<
  NodewardConfig,
  "grpcHost" | "l1Port" | "l2Port" | "maxHandshakes" | "maxWaitingConnections" | "handshakeTimeoutMs"
>;

/**
 * Opens L1Sec (TLS: the enrolment token is the credential) and L2Sec (mutual TLS with our CA)
 * behind one handshake gate each.
 */
export async function listenGrpc(
  servers: { l1: grpc.Server; l2: grpc.Server },
  config: ListenerConfig,
  tls: { serverCert: ServerCert; caCertPem: string },
  log: Logger,
  /** Remembers each L2 connection's client certificate for the calls made on it. */
  peerCertificates?: PeerCertificates,
): Promise<GrpcListeners> {
  const identity = { cert: tls.serverCert.chainPem, key: tls.serverCert.keyPem };
  const open = async (server: grpc.Server, port: number, name: string, mutual: boolean) => {
    try {
      return await listenGated(server, {
        host: config.grpcHost,
        port,
        tls: mutual
          ? { ...identity, ca: tls.caCertPem, requestCert: true, rejectUnauthorized: true }
          : { ...identity, requestCert: false },
        maxHandshakes: config.maxHandshakes,
        maxWaiting: config.maxWaitingConnections,
        handshakeTimeoutMs: config.handshakeTimeoutMs,
        backlog: config.maxWaitingConnections,
        ...(mutual && peerCertificates ? { onSecure: (socket) => peerCertificates.remember(socket) } : {}),
        log: log.child({ listener: name }),
      });
    } catch (err) {
      throw new RunosError("NA_CONFLICT", `cannot listen for ${name} on ${config.grpcHost}:${port}`, {
        cause: err,
        hint: "another process may hold the port; choose another with --l1-port/--l2-port",
      });
    }
  };
  const l1 = await open(servers.l1, config.l1Port, "L1Sec", false);
  let l2: GatedListener;
  try {
    l2 = await open(servers.l2, config.l2Port, "L2Sec", true);
  } catch (err) {
    await l1.close();
    throw err;
  }
  return {
    l1: l1.port,
    l2: l2.port,
    counters: () => ({ l1: l1.counters(), l2: l2.counters() }),
    close: async () => {
      await Promise.all([l1.close(), l2.close()]);
    },
  };
}
