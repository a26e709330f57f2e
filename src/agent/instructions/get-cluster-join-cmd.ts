import { RunosError } from "../../common/errors.js";
import { GetClusterJoinCmd } from "../../wire/instructions/get-cluster-join-cmd.js";
import { formatJoinLine } from "../../wire/kubeadm-join.js";
import { defineHandler } from "./define.js";

/** Bootstrap tokens live just long enough for one install (the original used kubeadm's 24 h default). */
export const joinTokenTtl = "30m";

/**
 * The join line for a worker or (asCp) a control plane, with the cluster's encryption key for the
 * latter. Unlike the original, a failure is an ERROR with the reason, never an empty join line.
 */
export const getClusterJoinCmd = defineHandler(GetClusterJoinCmd, async (payload, ctx) => {
  const kubeadm = ctx.host.kubeadm;
  if (!kubeadm) throw new RunosError("NA_UNSUPPORTED", "this agent has no kubeadm port");
  const join = await kubeadm.joinLine({ controlPlane: payload.asCp, ttl: joinTokenTtl });
  ctx.log.info({ asCp: payload.asCp }, "join line issued"); // never the token itself
  return {
    type: "CLUSTER_JOIN_CMD",
    payload: payload.asCp
      ? { joinCmd: formatJoinLine(join), encryptionKey: kubeadm.encryptionKey() }
      : { joinCmd: formatJoinLine(join) },
  };
});
