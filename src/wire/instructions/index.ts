import { ApplyCr } from "./apply-cr.js";
import { ApplyOperator } from "./apply-operator.js";
import type { InstructionSpec } from "./define.js";
import { DeleteCr } from "./delete-cr.js";
import { GetClusterJoinCmd } from "./get-cluster-join-cmd.js";
import { GetNodeStatus } from "./get-node-status.js";
import { InstallHelmChart } from "./install-helm-chart.js";
import { RemoveEtcdMember } from "./remove-etcd-member.js";
import { RunKubectlCommand } from "./run-kubectl-command.js";
import { RunRemoteScript } from "./run-remote-script.js";
import { RunWebRequest } from "./run-web-request.js";
import { SetControlPlaneEndpoints } from "./set-control-plane-endpoints.js";
import { SetUserPeers } from "./set-user-peers.js";
import { SetVpnPeers } from "./set-vpn-peers.js";
import { UninstallHelmChart } from "./uninstall-helm-chart.js";
import { UninstallNode } from "./uninstall-node.js";
import { UpdateDnsmasq } from "./update-dnsmasq.js";
import { UpgradeNodeK8s } from "./upgrade-node-k8s.js";
import { VipAssign } from "./vip-assign.js";
import { VipRelease } from "./vip-release.js";
import { VpnPeersDelta } from "./vpn-peers-delta.js";

/**
 * Every Nodeward -> agent instruction type, keyed by type string: the contract's 17 (spec 3.9)
 * and runos additions (since >= 2), which nodeward sends only to agents announcing them.
 */
export const instructionCatalogue: ReadonlyMap<string, InstructionSpec> = new Map<string, InstructionSpec>(
  [
    SetVpnPeers,
    GetNodeStatus,
    GetClusterJoinCmd,
    ApplyCr,
    DeleteCr,
    ApplyOperator,
    RunKubectlCommand,
    RunRemoteScript,
    InstallHelmChart,
    UninstallHelmChart,
    RunWebRequest,
    UninstallNode,
    RemoveEtcdMember,
    UpdateDnsmasq,
    UpgradeNodeK8s,
    VipAssign,
    VipRelease,
    SetUserPeers,
    SetControlPlaneEndpoints,
    VpnPeersDelta,
  ].map((spec) => [spec.type, spec as InstructionSpec]),
);

export function instructionSpec(type: string): InstructionSpec | undefined {
  return instructionCatalogue.get(type);
}
