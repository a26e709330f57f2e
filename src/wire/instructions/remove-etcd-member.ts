import * as z from "zod";
import { defineInstruction, noContent, str } from "./define.js";

export const RemoveEtcdMember = defineInstruction({
  type: "REMOVE_ETCD_MEMBER",
  summary: "Remove the etcd member with this exact IP (leader moved first, quorum guarded).",
  payload: z.object({ node_ip: str() }),
  answers: { NO_CONTENT: noContent },
  since: 1,
});
