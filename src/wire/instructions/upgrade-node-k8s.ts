import * as z from "zod";
import { bool, defineInstruction, str } from "./define.js";

export const UpgradeNodeK8s = defineInstruction({
  type: "UPGRADE_NODE_K8S",
  summary: "Upgrade kubeadm, kubelet, kubectl, containerd and helm on this node.",
  payload: z.object({
    targetKubernetesVersion: str(),
    targetContainerdVersion: str(),
    targetHelmVersion: str(),
    kubeRepoVersion: str(),
    isFirstCp: bool(),
  }),
  answers: {
    UPGRADE_NODE_K8S_RESPONSE: z.object({
      success: bool(),
      message: str(),
      previousVersion: str(),
      newVersion: str(),
    }),
  },
  since: 1,
});
