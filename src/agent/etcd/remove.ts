import { sleep } from "../../common/clock.js";
import { errorMessage, RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { EtcdPort } from "../host/etcd.js";
import { collectClusterInfo, type EtcdMemberView, leaderFrom } from "./cluster.js";
import type { MemberId } from "./member-id.js";
import { checkQuorum } from "./quorum.js";
import { describeTarget, findTarget, type RemovalTarget } from "./target.js";

/** Time as a port: tests run the waits on a virtual clock. */
export interface Timers {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realTimers: Timers = { now: () => Date.now(), sleep };

export interface RemoveDeps {
  etcd: EtcdPort;
  log: Logger;
  timers?: Timers;
  signal?: AbortSignal;
}

/** The waits (spec 7.7 and FEASIBILITY 3): all bounded. */
export interface RemoveLimits {
  leaderMoveMs: number;
  leaderPollMs: number;
  /** How long "unhealthy cluster" (etcd's strict reconfiguration check) is retried. */
  unhealthyRetryMs: number;
  verifyMs: number;
  verifyPollMs: number;
}

export const defaultLimits: RemoveLimits = {
  leaderMoveMs: 10_000,
  leaderPollMs: 250,
  unhealthyRetryMs: 10_000,
  verifyMs: 30_000,
  verifyPollMs: 1_000,
};

export interface RemoveResult {
  target: string;
  /** False when the id was not in the cluster (already removed). */
  removed: boolean;
  id: MemberId;
  name: string;
  peerUrls: string[];
  wasLeader: boolean;
  /** The member that became leader before the removal. */
  leaderMovedTo?: MemberId;
  removeAttempts: number;
  durationMs: number;
}

/**
 * Removes one member safely: quorum guard, leadership moved off the target first (abort if that
 * fails: removing a leader directly is what left orphan members in the original), removal retried
 * through etcd's strict reconfiguration check, and the member list polled until the member is gone.
 */
export async function removeMember(
  deps: RemoveDeps,
  target: RemovalTarget,
  limits: RemoveLimits = defaultLimits,
): Promise<RemoveResult> {
  const { etcd, log } = deps;
  const timers = deps.timers ?? realTimers;
  const started = timers.now();
  const what = describeTarget(target);

  const info = await collectClusterInfo(etcd);
  log.info(
    { target: what, members: info.members.length, leader: info.leaderId, hasQuorum: info.hasQuorum },
    "etcd: cluster read",
  );
  const member = findTarget(info.members, target);
  const result = (extra: Partial<RemoveResult>): RemoveResult => ({
    target: what,
    removed: false,
    id: member?.id ?? "",
    name: member?.name ?? "",
    peerUrls: member?.peerUrls ?? [],
    wasLeader: member?.isLeader ?? false,
    removeAttempts: 0,
    durationMs: timers.now() - started,
    ...extra,
  });
  if (!member) {
    log.info({ target: what }, "etcd: member not in the cluster; nothing to remove (already removed?)");
    return result({});
  }
  const label = `${member.id}${member.name ? ` (${member.name})` : ""}`;

  const quorum = checkQuorum(info.members, member);
  log.info({ id: member.id, ...quorum }, "etcd: quorum check");
  if (!quorum.ok) {
    const unhealthy = info.members
      .filter((m) => m.id !== member.id && m.health !== "healthy")
      .map((m) => `${m.name || m.id}: ${m.healthError ?? m.health}`);
    const detail = unhealthy.length ? ` (${unhealthy.join("; ")})` : "";
    throw new RunosError(
      "NA_ETCD_QUORUM",
      `refusing to remove etcd member ${label}: ${quorum.reason}${detail}`,
      {
        hint: "bring the unhealthy members back (or remove dead ones first), then retry; `runos etcd list` shows health",
      },
    );
  }
  if (info.leaderId === "") {
    throw new RunosError(
      "NA_ETCD_LEADER",
      `refusing to remove etcd member ${label}: no member reports a leader`,
      {
        hint: "wait for an election (`runos etcd list`), then retry",
      },
    );
  }

  const others = info.members.filter((m) => m.id !== member.id && m.health === "healthy");
  const remainingUrls = others.flatMap((m) => m.clientUrls);
  let leaderMovedTo: MemberId | undefined;
  if (member.isLeader) {
    leaderMovedTo = await moveLeadershipOff(deps, timers, limits, info.members, member, remainingUrls);
  }

  const removeAttempts = await removeWithRetry(deps, timers, limits, member, remainingUrls);
  await verifyGone(deps, timers, limits, member, remainingUrls);
  const done = result({ removed: true, leaderMovedTo, removeAttempts });
  log.info({ ...done }, "etcd: member removed");
  return done;
}

/** A started, healthy voter that is not the target; the most up to date first. */
export function pickTransferee(
  members: EtcdMemberView[],
  target: EtcdMemberView,
): EtcdMemberView | undefined {
  return members
    .filter((m) => m.id !== target.id && m.started && !m.isLearner && m.health === "healthy")
    .sort((a, b) => (b.raftIndex ?? 0) - (a.raftIndex ?? 0) || a.id.localeCompare(b.id))[0];
}

async function moveLeadershipOff(
  deps: RemoveDeps,
  timers: Timers,
  limits: RemoveLimits,
  members: EtcdMemberView[],
  leader: EtcdMemberView,
  remainingUrls: string[],
): Promise<MemberId> {
  const label = `${leader.id}${leader.name ? ` (${leader.name})` : ""}`;
  const abort = (why: string, cause?: unknown) =>
    new RunosError("NA_ETCD_LEADER", `etcd member ${label} is the leader and ${why}; nothing was removed`, {
      cause,
      hint: "check the other members' health with `runos etcd list` and retry",
    });
  const transferee = pickTransferee(members, leader);
  if (!transferee) throw abort("no started, healthy voting member can take over");
  deps.log.info({ from: leader.id, to: transferee.id }, "etcd: moving leadership off the member to remove");
  try {
    // move-leader is only accepted by the current leader, so it goes to the leader's own URLs.
    await deps.etcd.moveLeader(transferee.id, leader.clientUrls);
  } catch (err) {
    throw abort(`moving leadership to ${transferee.id} failed: ${errorMessage(err)}`, err);
  }
  const deadline = timers.now() + limits.leaderMoveMs;
  const urls = [...remainingUrls, ...leader.clientUrls];
  for (;;) {
    const current = leaderFrom(await deps.etcd.endpointStatus(urls));
    if (current !== "" && current !== leader.id) {
      deps.log.info({ leader: current }, "etcd: leadership moved");
      return current;
    }
    if (timers.now() >= deadline || deps.signal?.aborted) {
      throw abort(`leadership did not move within ${limits.leaderMoveMs / 1000} s`);
    }
    await timers.sleep(limits.leaderPollMs, deps.signal);
  }
}

async function removeWithRetry(
  deps: RemoveDeps,
  timers: Timers,
  limits: RemoveLimits,
  member: EtcdMemberView,
  urls: string[],
): Promise<number> {
  const deadline = timers.now() + limits.unhealthyRetryMs;
  let delay = 250;
  for (let attempt = 1; ; attempt += 1) {
    if (deps.signal?.aborted) throw new RunosError("NA_TIMEOUT", "etcd member removal interrupted");
    const outcome = await deps.etcd.memberRemove(member.id, urls);
    deps.log.info({ id: member.id, attempt, outcome }, "etcd: member remove");
    if (outcome !== "unhealthy-cluster") return attempt;
    if (timers.now() + delay > deadline) {
      throw new RunosError(
        "NA_TIMEOUT",
        `etcd kept refusing to remove member ${member.id} with "unhealthy cluster" for ${limits.unhealthyRetryMs / 1000} s`,
        {
          hint: "etcd's strict reconfiguration check wants the other members connected for 5 s; check `runos etcd list` and retry",
        },
      );
    }
    await timers.sleep(delay, deps.signal);
    delay = Math.min(delay * 2, 2_000);
  }
}

async function verifyGone(
  deps: RemoveDeps,
  timers: Timers,
  limits: RemoveLimits,
  member: EtcdMemberView,
  urls: string[],
): Promise<void> {
  const deadline = timers.now() + limits.verifyMs;
  for (;;) {
    try {
      const list = await deps.etcd.memberList(urls);
      if (!list.members.some((m) => m.id === member.id)) return;
    } catch (err) {
      deps.log.debug({ err: errorMessage(err) }, "etcd: member list failed while verifying");
    }
    if (timers.now() >= deadline || deps.signal?.aborted) {
      throw new RunosError(
        "NA_TIMEOUT",
        `etcd accepted the removal of member ${member.id} but it was still listed after ${limits.verifyMs / 1000} s`,
        { hint: "check `runos etcd list`; retry the removal by id" },
      );
    }
    await timers.sleep(limits.verifyPollMs, deps.signal);
  }
}
