import type { TLSSocket } from "node:tls";

/** What identifying a node needs of its certificate (the full object is a few KiB per connection). */
export interface PeerNames {
  subjectaltname?: string;
  serialNumber: string;
}

/**
 * The verified client certificate of each open mutual-TLS connection, by the peer address gRPC
 * reports for its calls (`call.getPeer()`). grpc-js's getAuthContext() asks the TLS socket anew
 * for every call, which builds the whole certificate object each time (a third of a millisecond;
 * several calls per connect); here it is built once per connection and dropped when it closes.
 */
export class PeerCertificates {
  private readonly bySocket = new Map<string, { socket: TLSSocket; names?: PeerNames }>();

  /** A finished, authorised handshake. */
  remember(socket: TLSSocket): void {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    this.bySocket.set(key, { socket });
    socket.once("close", () => {
      if (this.bySocket.get(key)?.socket === socket) this.bySocket.delete(key);
    });
  }

  /** The certificate of the connection a call came on, or undefined (then ask the call itself). */
  lookup(peer: string): PeerNames | undefined {
    const entry = this.bySocket.get(peer);
    if (!entry?.socket.authorized || entry.socket.destroyed) return undefined;
    if (!entry.names) {
      const certificate = entry.socket.getPeerCertificate();
      if (!certificate.raw) return undefined;
      // keep only what identifyPeer reads: 10,000 whole certificates would be tens of MiB
      entry.names = { subjectaltname: certificate.subjectaltname, serialNumber: certificate.serialNumber };
    }
    return entry.names;
  }

  get size(): number {
    return this.bySocket.size;
  }
}
