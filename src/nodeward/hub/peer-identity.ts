import type { PeerCertificate } from "node:tls";
import type { Clock } from "../../common/clock.js";
import { normaliseSerial } from "../../common/pki.js";
import { grpc, grpcError } from "../../wire/grpc.js";
import type { Repository } from "../store/repository.js";
import type { PeerCertificates } from "../transport/peer-certificates.js";

export interface NodeIdentity {
  nid: string;
  /** Serial of the client certificate this call was made with. */
  serial: string;
  aid: string;
  cluster: string;
}

export interface IdentityDeps {
  store: Repository;
  clock: Clock;
  certGraceMs: number;
  /** Certificates of open connections, so a call does not make the TLS socket build it again. */
  peerCertificates?: PeerCertificates;
}

interface CallWithAuth {
  getPeer(): string;
  getAuthContext(): { sslPeerCertificate?: PeerCertificate } | null;
}

/**
 * Who is calling, from the mTLS client certificate. The handshake already proved the chain to
 * our CA; here the serial must be one we issued to that node and still honour.
 * Throws an UNAUTHENTICATED status error that says why.
 */
export async function identifyPeer(call: CallWithAuth, deps: IdentityDeps): Promise<NodeIdentity> {
  const peer = deps.peerCertificates?.lookup(call.getPeer()) ?? call.getAuthContext()?.sslPeerCertificate;
  if (!peer) throw refuse("no verified client certificate was presented; register the node first");
  const nid = /URI:spiffe:\/\/runos\/node\/([^,\s]+)/.exec(peer.subjectaltname ?? "")?.[1];
  if (!nid) throw refuse("the client certificate does not name a runos node");
  const serial = normaliseSerial(peer.serialNumber);
  const cert = await deps.store.findCertificate(serial);
  if (!cert || cert.nid !== nid) throw refuse("the client certificate is not known to this control plane");
  if (cert.revokedAt !== null) {
    throw refuse("the client certificate has been revoked (the node was deleted or registered again)");
  }
  if (cert.supersededAt !== null && deps.clock.now() - cert.supersededAt > deps.certGraceMs) {
    throw refuse("the client certificate was replaced by a newer one; use the newest certificate");
  }
  const node = await deps.store.getNode(nid);
  if (!node) throw refuse("the node named by the client certificate does not exist");
  if (node.replacedBy !== null) throw refuse(`node ${nid} was replaced by a newer registration`);
  if (node.deletedAt !== null) throw refuse(`node ${nid} has been deleted`);
  return { nid, serial, aid: node.aid, cluster: node.cluster };
}

function refuse(message: string): grpc.ServiceError {
  return grpcError(grpc.status.UNAUTHENTICATED, message);
}
