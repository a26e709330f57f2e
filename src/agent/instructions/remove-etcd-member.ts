import { RunosError } from "../../common/errors.js";
import { RemoveEtcdMember } from "../../wire/instructions/remove-etcd-member.js";
import { removeMember } from "../etcd/remove.js";
import { defineHandler } from "./define.js";

/**
 * Removes the member whose peer URL host is exactly `node_ip` (the original matched a substring,
 * so 10.0.0.1 also hit 10.0.0.10). Quorum guarded, leader moved first; any refusal is an ERROR.
 */
export const removeEtcdMember = defineHandler(RemoveEtcdMember, async (payload, ctx) => {
  const ip = payload.node_ip.trim();
  if (!ip) throw new RunosError("NA_INVALID_INPUT", "REMOVE_ETCD_MEMBER needs node_ip");
  if (!ctx.host.etcd) throw new RunosError("NA_UNSUPPORTED", "this agent has no etcd port configured");
  const result = await removeMember(
    { etcd: ctx.host.etcd, log: ctx.log.child({ component: "etcd" }), signal: ctx.signal },
    { ip },
  );
  ctx.log.info({ ...result }, "REMOVE_ETCD_MEMBER done");
  return { type: "NO_CONTENT", payload: {} };
});
