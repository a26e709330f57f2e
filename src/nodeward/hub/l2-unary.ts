import { create } from "@bufbuild/protobuf";
import type { Clock } from "../../common/clock.js";
import type { Logger } from "../../common/log.js";
import type { CertificateAuthority, IssuedCert } from "../../common/pki.js";
import { normaliseSerial } from "../../common/pki.js";
import {
  type AddNodelogRequest,
  type GetControlPlaneNodesRequest,
  GetControlPlaneNodesResponse_ControlPlaneNodeSchema,
  type GetInstallCommandsRequest,
  type GetInstallVpnCommandsRequest,
  type ManualSyncRequest,
  type RegenerateCertificateRequest,
  type UpdateStatusRequest,
  VpnPeerSchema,
} from "../../wire/gen/runos/nodeward/proto/l2sec/nodeward_l2sec_pb.js";
import type { grpc } from "../../wire/grpc.js";
import type { Overlay } from "../cluster/overlay.js";
import { unary } from "../grpc-server.js";
import type { KubernetesOrchestrator } from "../kubernetes/orchestrator.js";
import type { Repository } from "../store/repository.js";
import type { ClusterView } from "./cluster-view.js";
import type { Hub } from "./hub.js";
import { type IdentityDeps, identifyPeer } from "./peer-identity.js";

export interface UnaryDeps extends IdentityDeps {
  store: Repository;
  ca: CertificateAuthority;
  clock: Clock;
  log: Logger;
  hub: Hub;
  clusterView: ClusterView;
  certTtlMs: number;
  overlay: Pick<Overlay, "changed" | "installCommands">;
  kubernetes: Pick<KubernetesOrchestrator, "installCommands" | "statusReported">;
}

const cut = (text: string, max: number) => (text.length > max ? text.slice(0, max) : text);

/** The unary L2Sec RPCs the agent uses (spec 2.2). Each identifies the node first. */
export function unaryHandlers(deps: UnaryDeps) {
  const { log } = deps;
  return {
    addNodelog: unary(log, "AddNodelog", async (call: grpc.ServerUnaryCall<AddNodelogRequest, unknown>) => {
      const { nid } = await identifyPeer(call, deps);
      const r = call.request;
      await deps.store.addNodelog({
        nid,
        time: deps.clock.now(),
        type: cut(r.type, 128),
        severity: r.severity,
        message: cut(r.message, 16 * 1024),
        code: cut(r.code, 64),
        cause: cut(r.cause, 4096),
        remedy: cut(r.remedy, 4096),
        docsUrl: cut(r.docsUrl, 2048),
      });
      return {};
    }),

    updateStatus: unary(
      log,
      "UpdateStatus",
      async (call: grpc.ServerUnaryCall<UpdateStatusRequest, unknown>) => {
        const { nid } = await identifyPeer(call, deps);
        const status = cut(call.request.status, 1024);
        await deps.store.updateInstallStatus(nid, status, deps.clock.now());
        await deps.kubernetes.statusReported(nid, status);
        return {};
      },
    ),

    getControlPlaneNodes: unary(
      log,
      "GetControlPlaneNodes",
      async (call: grpc.ServerUnaryCall<GetControlPlaneNodesRequest, unknown>) => {
        const identity = await identifyPeer(call, deps);
        const nodes = await deps.clusterView.controlPlaneNodes(identity);
        return {
          ControlPlaneNodes: nodes.map((n) => create(GetControlPlaneNodesResponse_ControlPlaneNodeSchema, n)),
        };
      },
    ),

    manualSync: unary(log, "ManualSync", async (call: grpc.ServerUnaryCall<ManualSyncRequest, unknown>) => {
      const identity = await identifyPeer(call, deps);
      const peer = call.request.nodePeer;
      const before = await deps.store.getNode(identity.nid);
      const next = {
        vpnPubKey: cut(peer?.pubKey ?? "", 128),
        vpnEndpoint: cut(peer?.endpointIp ?? "", 128),
        vpnIp: cut(peer?.ip ?? "", 64),
        nodeIsReady: call.request.nodeIsReady,
      };
      await deps.store.updateVpnPeer(identity.nid, next);
      if (before?.vpnPubKey !== next.vpnPubKey || before?.vpnEndpoint !== next.vpnEndpoint)
        deps.overlay.changed(identity);
      const peers = await deps.clusterView.peersFor(identity);
      // fullState: a runos agent removes peers not listed; an original agent ignores the field.
      return { peers: peers.map((p) => create(VpnPeerSchema, p)), fullState: true };
    }),

    getInstallVpnCommands: unary(
      log,
      "GetInstallVpnCommands",
      async (call: grpc.ServerUnaryCall<GetInstallVpnCommandsRequest, unknown>) => {
        const identity = await identifyPeer(call, deps);
        return { commands: await deps.overlay.installCommands(identity.nid, call.getPeer()) };
      },
    ),

    getInstallCommands: unary(
      log,
      "GetInstallCommands",
      async (call: grpc.ServerUnaryCall<GetInstallCommandsRequest, unknown>) => {
        const identity = await identifyPeer(call, deps);
        return { commands: await deps.kubernetes.installCommands(identity.nid) };
      },
    ),

    regenerateCertificate: unary(
      log,
      "RegenerateCertificate",
      async (call: grpc.ServerUnaryCall<RegenerateCertificateRequest, unknown>) => {
        const identity = await identifyPeer(call, deps);
        const csr = call.request.csr.trim();
        const issued: IssuedCert & { keyPem?: string } = csr
          ? await deps.ca.signNodeCsr(csr, identity.nid, deps.certTtlMs)
          : await deps.ca.issueNodeKeyAndCert(identity.nid, deps.certTtlMs);
        await deps.store.transaction(async (tx) => {
          const now = deps.clock.now();
          await tx.insertCertificate({
            serial: normaliseSerial(issued.serial),
            nid: identity.nid,
            notBefore: issued.notBefore.getTime(),
            notAfter: issued.notAfter.getTime(),
            createdAt: now,
            revokedAt: null,
            supersededAt: null,
          });
          // the old certificate keeps working for the grace period, so the agent can switch over
          await tx.supersedeCertificate(identity.serial, now);
        });
        deps.hub.endSerialAfter(identity.nid, identity.serial, deps.certGraceMs);
        log.info({ nid: identity.nid, csr: csr !== "" }, "certificate regenerated");
        return { privateKey: issued.keyPem ?? "", publicKey: issued.certPem, caCert: deps.ca.certPem };
      },
    ),
  };
}
