import { type EtcdMemberView, majority } from "./cluster.js";

export interface QuorumCheck {
  ok: boolean;
  /** Why the removal is refused (when not ok). */
  reason: string;
  votersNow: number;
  healthyVotersNow: number;
  votersAfter: number;
  healthyVotersAfter: number;
  /** Healthy voters the cluster needs after the removal. */
  neededAfter: number;
}

/**
 * Whether removing `target` keeps the cluster able to work. Learners do not vote. The membership
 * change itself must be committed by the current voters, and afterwards the healthy remaining
 * voters must still be a majority of the new voting set; the last voter is never removed.
 */
export function checkQuorum(members: EtcdMemberView[], target: EtcdMemberView): QuorumCheck {
  const voters = members.filter((m) => !m.isLearner);
  const after = voters.filter((m) => m.id !== target.id);
  const healthy = (list: EtcdMemberView[]) => list.filter((m) => m.health === "healthy").length;
  const check: QuorumCheck = {
    ok: true,
    reason: "",
    votersNow: voters.length,
    healthyVotersNow: healthy(voters),
    votersAfter: after.length,
    healthyVotersAfter: healthy(after),
    neededAfter: after.length === 0 ? 1 : majority(after.length),
  };
  const refuse = (reason: string): QuorumCheck => ({ ...check, ok: false, reason });
  if (members.length <= 1 || after.length === 0) {
    return refuse("it is the last voting member; removing it would destroy the cluster");
  }
  if (check.healthyVotersNow < majority(voters.length)) {
    return refuse(
      `the cluster has no quorum now (${check.healthyVotersNow} of ${voters.length} voting members healthy, ${majority(voters.length)} needed), so no membership change can commit`,
    );
  }
  if (check.healthyVotersAfter < check.neededAfter) {
    return refuse(
      `only ${check.healthyVotersAfter} of the ${after.length} remaining voting members are healthy, ${check.neededAfter} are needed for quorum`,
    );
  }
  return check;
}
