import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from "node:tls";
import type { Logger } from "../../common/log.js";
import { grpc } from "../../wire/grpc.js";
import { type GateCounters, HandshakeGate } from "./handshake-gate.js";

export interface GatedListenerOptions {
  /** Certificate, key and, for mutual TLS, the CA with requestCert/rejectUnauthorized. */
  tls: Pick<TlsOptions, "cert" | "key" | "ca" | "requestCert" | "rejectUnauthorized">;
  /** TLS handshakes in progress at once. */
  maxHandshakes: number;
  /** Accepted connections waiting for a handshake slot. */
  maxWaiting: number;
  /** A handshake not finished by then fails (the slot is released). */
  handshakeTimeoutMs: number;
  /** Told of every finished handshake before gRPC sees the connection. */
  onSecure?: (socket: TLSSocket) => void;
  log: Logger;
}

/** TLS in front of a gRPC server, fed accepted connections through `admit`. */
export interface GatedTls {
  /** A freshly accepted connection (not yet read from). */
  admit(socket: Socket): void;
  counters(): GateCounters;
  /** Closes connections still waiting; the gRPC server's shutdown ends the rest. */
  close(): void;
}

/**
 * Serves a grpc-js server over TLS through our own listener, so that we decide how many TLS
 * handshakes run at once (grpc-js would start every one the moment it is accepted, with a
 * 511-deep accept queue). The TLS server here is never bound: it only performs handshakes on the
 * sockets we hand it, and verifies client certificates exactly as a listening one would. A
 * finished TLS socket (ALPN h2) is injected into the gRPC server as an already-secured
 * connection, and calls still see the peer certificate through getAuthContext().
 */
export function gatedTls(server: grpc.Server, options: GatedListenerOptions): GatedTls {
  const { log } = options;
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const tlsServer = createTlsServer({
    ...options.tls,
    ALPNProtocols: ["h2"],
    minVersion: "TLSv1.2",
    handshakeTimeout: options.handshakeTimeoutMs,
  });
  /** Slots by the peer's address, known from accept until the handshake ends. */
  const inHandshake = new Map<string, () => void>();
  const peerKey = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;

  const gate = new HandshakeGate<Socket>(
    { maxInFlight: options.maxHandshakes, maxWaiting: options.maxWaiting },
    (socket, release) => {
      const key = peerKey(socket);
      // Whichever comes first ends the slot: the handshake succeeds, the socket closes, or the
      // handshake timeout (which TLS reports as a client error) has passed.
      const timer = setTimeout(release, options.handshakeTimeoutMs + 500);
      const done = () => {
        clearTimeout(timer);
        inHandshake.delete(key);
        release();
      };
      inHandshake.set(key, done);
      socket.once("close", done);
      tlsServer.emit("connection", socket);
    },
  );

  tlsServer.on("secureConnection", (socket: TLSSocket) => {
    inHandshake.get(peerKey(socket))?.();
    // grpc-js leaves errors on server TLS sockets to their owner (nodejs/node#35824)
    socket.on("error", (err) => log.debug({ err: err.message }, "agent connection error"));
    options.onSecure?.(socket);
    injector.injectConnection(socket);
  });
  tlsServer.on("tlsClientError", (err, socket) => {
    log.debug({ err: err.message, peer: socket.remoteAddress }, "TLS handshake failed");
    socket.destroy();
  });

  const admit = (socket: Socket) => {
    socket.on("error", (err) => log.debug({ err: err.message }, "connection error before TLS"));
    if (gate.offer(socket) === "waiting") socket.once("close", () => gate.withdraw(socket));
  };
  return {
    admit,
    counters: () => gate.counters(),
    close: () => gate.dropWaiting(),
  };
}

/** Accepts on our own socket, in this process (tests, and a fallback without the acceptor process). */
export async function listenInline(
  gated: GatedTls,
  options: { host: string; port: number; backlog: number },
): Promise<{ port: number; close(): void }> {
  const net: NetServer = createNetServer({ pauseOnConnect: true }, (socket) => gated.admit(socket));
  const port = await new Promise<number>((resolve, reject) => {
    net.once("error", reject);
    net.listen({ host: options.host, port: options.port, backlog: options.backlog }, () => {
      net.off("error", reject);
      const address = net.address();
      resolve(typeof address === "object" && address ? address.port : options.port);
    });
  });
  // close() stops accepting; its callback would also wait for every accepted socket, which the
  // TLS and gRPC layers own from here and the gRPC server's shutdown ends
  return { port, close: () => net.close() };
}
