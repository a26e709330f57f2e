import * as z from "zod";
import { bool, defineInstruction, str } from "./define.js";

export const GetClusterJoinCmd = defineInstruction({
  type: "GET_CLUSTER_JOIN_CMD",
  summary: "Print a kubeadm join command (worker or control plane).",
  payload: z.object({ asCp: bool() }),
  answers: { CLUSTER_JOIN_CMD: z.object({ joinCmd: str(), encryptionKey: z.string().optional() }) },
  since: 1,
});
