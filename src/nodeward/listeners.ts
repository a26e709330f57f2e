import { RunosError } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import type { grpc } from "../wire/grpc.js";
import type { ServerCert } from "./ca/server-cert.js";
import type { NodewardConfig } from "./config.js";
import { startAcceptor } from "./transport/acceptor.js";
import { type GatedTls, gatedTls, listenInline } from "./transport/gated-tls-listener.js";
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
  | "grpcHost"
  | "l1Port"
  | "l2Port"
  | "maxHandshakes"
  | "maxWaitingConnections"
  | "handshakeTimeoutMs"
  | "acceptor"
>;

/**
 * Opens L1Sec (TLS: the enrolment token is the credential) and L2Sec (mutual TLS with our CA)
 * behind one handshake gate each. Connections are accepted by the acceptor process, or in this
 * process when `acceptor` is "inline".
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
  const gate = (server: grpc.Server, name: string, mutual: boolean) =>
    gatedTls(server, {
      tls: mutual
        ? { ...identity, ca: tls.caCertPem, requestCert: true, rejectUnauthorized: true }
        : { ...identity, requestCert: false },
      maxHandshakes: config.maxHandshakes,
      maxWaiting: config.maxWaitingConnections,
      handshakeTimeoutMs: config.handshakeTimeoutMs,
      ...(mutual && peerCertificates ? { onSecure: (socket) => peerCertificates.remember(socket) } : {}),
      log: log.child({ listener: name }),
    });
  const gated: Record<"L1Sec" | "L2Sec", GatedTls> = {
    L1Sec: gate(servers.l1, "L1Sec", false),
    L2Sec: gate(servers.l2, "L2Sec", true),
  };
  const wanted = [
    { name: "L1Sec" as const, port: config.l1Port },
    { name: "L2Sec" as const, port: config.l2Port },
  ];
  const backlog = config.maxWaitingConnections;
  let ports: Record<string, number>;
  let stopAccepting: () => void;
  if (config.acceptor === "process") {
    const acceptor = await startAcceptor(
      wanted.map((l) => ({ ...l, host: config.grpcHost, backlog, maxPending: backlog })),
      (name, socket) => {
        const target = gated[name as "L1Sec" | "L2Sec"];
        if (target) target.admit(socket);
        else socket.destroy();
      },
      log.child({ component: "acceptor" }),
    );
    ports = acceptor.ports;
    stopAccepting = () => acceptor.close();
  } else {
    const opened: { port: number; close(): void }[] = [];
    try {
      for (const l of wanted) {
        opened.push(await listenInline(gated[l.name], { host: config.grpcHost, port: l.port, backlog }));
      }
    } catch (err) {
      for (const o of opened) o.close();
      const name = wanted[opened.length]?.name ?? "gRPC";
      throw new RunosError("NA_CONFLICT", `cannot listen for ${name} on ${config.grpcHost}`, {
        cause: err,
        hint: "another process may hold the port; choose another with --l1-port/--l2-port",
      });
    }
    ports = { L1Sec: opened[0]?.port ?? 0, L2Sec: opened[1]?.port ?? 0 };
    stopAccepting = () => {
      for (const o of opened) o.close();
    };
  }
  return {
    l1: ports.L1Sec ?? config.l1Port,
    l2: ports.L2Sec ?? config.l2Port,
    counters: () => ({ l1: gated.L1Sec.counters(), l2: gated.L2Sec.counters() }),
    close: async () => {
      stopAccepting();
      gated.L1Sec.close();
      gated.L2Sec.close();
    },
  };
}
