import assert from "node:assert/strict";
import { test } from "node:test";
import { removeMember } from "../../../src/agent/etcd/remove.js";
import { createEtcdctlPort } from "../../../src/agent/host/etcdctl.js";
import { isRunosError } from "../../../src/common/errors.js";
import { silentLogger } from "../../../src/common/log.js";
import { FakeEtcdctl, FakeTimers } from "./etcd-fake.js";

const local = "https://127.0.0.1:24379"; // e1's client URL: the "local" member

function setup(fake = FakeEtcdctl.threeMembers()) {
  const etcd = createEtcdctlPort({
    exec: fake.exec,
    settings: () => ({ endpoints: [local], tls: { cacert: "/ca", cert: "/c", key: "/k" } }),
    fileExists: () => true,
  });
  const timers = new FakeTimers();
  const deps = { etcd, log: silentLogger(), timers };
  return { fake, deps, timers };
}

const withCode = (code: string) => (err: unknown) => isRunosError(err) && err.code === code;

test("remove by IP hits the exact member only, with a near miss present (127.0.0.1 vs 127.0.0.10)", async () => {
  const { fake, deps } = setup();
  const e1 = fake.hex("e1");
  const result = await removeMember(deps, { ip: "127.0.0.1" });
  assert.equal(result.removed, true);
  assert.equal(result.id, e1);
  assert.equal(result.name, "e1");
  assert.deepEqual(
    fake.members.map((m) => m.name),
    ["e2", "e3"],
  );
  const remove = fake.calls.find((argv) => argv.includes("remove"));
  assert.deepEqual(remove?.slice(-3), ["member", "remove", e1]);
  // the removal and the verification go to the members that stay, not to the one leaving
  assert.ok(remove?.[1]?.startsWith("--endpoints=") && !remove[1].includes(local));
});

test("an IP no member has is an error naming it; an IP on two members is ambiguous", async () => {
  const { fake, deps } = setup();
  await assert.rejects(
    removeMember(deps, { ip: "127.0.0.100" }),
    (err) =>
      withCode("NA_NOT_FOUND")(err) && /etcd member not found for IP: 127\.0\.0\.100/.test(String(err)),
  );
  fake.byName("e3").peerUrls = ["https://127.0.0.1:24480"];
  await assert.rejects(removeMember(deps, { ip: "127.0.0.1" }), withCode("NA_CONFLICT"));
  assert.ok(!fake.commands().includes("member remove"));
});

test("removing the leader moves leadership first, sent to the leader's own endpoint", async () => {
  const { fake, deps } = setup();
  const e2 = fake.byName("e2"); // the recorded leader
  const result = await removeMember(deps, { id: e2.id.toString(16) });
  assert.equal(result.wasLeader, true);
  assert.ok(result.leaderMovedTo && result.leaderMovedTo !== e2.id.toString(16));
  assert.equal(fake.removedLeaderDirectly, false, "the leader itself was removed");
  const commands = fake.commands();
  const move = commands.findIndex((c) => c.startsWith("move-leader"));
  const remove = commands.indexOf(`member remove ${e2.id.toString(16)}`);
  assert.ok(move >= 0 && remove > move, commands.join(", "));
  const moveArgv = fake.calls[move] ?? [];
  assert.equal(moveArgv[1], `--endpoints=${e2.clientUrls.join(",")}`);
  assert.equal(fake.has("e2"), false);
  assert.ok(fake.leader !== 0n && fake.has(fake.members.find((m) => m.id === fake.leader)?.name ?? "?"));
});

test("a failed leadership transfer aborts: nothing is removed", async () => {
  const { fake, deps } = setup();
  fake.moveLeaderError = "Error: etcdserver: request timed out, leader transfer took too long\n";
  await assert.rejects(
    removeMember(deps, { ip: "127.0.0.10" }),
    (err) => withCode("NA_ETCD_LEADER")(err) && /nothing was removed/.test(String(err)),
  );
  assert.ok(!fake.commands().includes(`member remove ${fake.hex("e2")}`));
  assert.equal(fake.members.length, 3);
});

test("leadership that does not move within 10 s aborts without removing", async () => {
  const { fake, deps, timers } = setup();
  fake.leaderStuck = true;
  await assert.rejects(removeMember(deps, { ip: "127.0.0.10" }), withCode("NA_ETCD_LEADER"));
  assert.ok(timers.t >= 10_000 && timers.t < 11_000, `gave up after ${timers.t} ms`);
  assert.equal(fake.members.length, 3);
});

test("no healthy voter to take over: the leader is not removed", async () => {
  const { fake, deps } = setup();
  fake.members = fake.members.filter((m) => m.name !== "e3");
  fake.byName("e1").isLearner = true;
  await assert.rejects(
    removeMember(deps, { ip: "127.0.0.10" }),
    (err) => isRunosError(err) && /last voting member/.test(err.message),
  );
  assert.ok(!fake.commands().some((c) => c.startsWith("move-leader") || c.startsWith("member remove")));
});

test("quorum guard: one of three down refuses removing a healthy member, allows removing the dead one", async () => {
  const { fake, deps } = setup();
  fake.byName("e3").up = false;
  await assert.rejects(
    removeMember(deps, { ip: "127.0.0.1" }),
    (err) =>
      withCode("NA_ETCD_QUORUM")(err) &&
      /1 of the 2 remaining voting members are healthy, 2 are needed.*\(e3: context deadline exceeded\)/.test(
        String(err),
      ),
  );
  assert.ok(!fake.commands().includes("member remove"));
  const result = await removeMember(deps, { ip: "127.0.0.11" });
  assert.equal(result.removed, true);
  assert.deepEqual(fake.members.map((m) => m.name).sort(), ["e1", "e2"]);
});

test("quorum guard: two members with one down refuses either removal; the last member is never removed", async () => {
  const { fake, deps } = setup();
  fake.members = fake.members.filter((m) => m.name !== "e3");
  fake.byName("e2").up = false; // e1 (the local endpoint) still answers the member list
  for (const ip of ["127.0.0.1", "127.0.0.10"]) {
    await assert.rejects(
      removeMember(deps, { ip }),
      (err) => withCode("NA_ETCD_QUORUM")(err) && /no quorum now/.test(String(err)),
    );
  }
  const single = setup();
  single.fake.members = single.fake.members.filter((m) => m.name === "e1");
  single.fake.leader = single.fake.byName("e1").id;
  await assert.rejects(
    removeMember(single.deps, { ip: "127.0.0.1" }),
    (err) => withCode("NA_ETCD_QUORUM")(err) && /last voting member/.test(String(err)),
  );
  assert.ok(![...fake.commands(), ...single.fake.commands()].includes("member remove"));
});

test('"unhealthy cluster" (strict reconfig check) is retried with backoff for up to 10 s', async () => {
  const { fake, deps, timers } = setup();
  fake.unhealthyRemovals = 4;
  const result = await removeMember(deps, { ip: "127.0.0.11" });
  assert.equal(result.removeAttempts, 5);
  assert.equal(timers.t, 250 + 500 + 1000 + 2000, "backoff 250 ms doubling, capped at 2 s");

  const stuck = setup();
  stuck.fake.unhealthyRemovals = 1_000;
  await assert.rejects(removeMember(stuck.deps, { ip: "127.0.0.11" }), withCode("NA_TIMEOUT"));
  assert.ok(stuck.timers.t <= 10_000, `retried for ${stuck.timers.t} ms`);
  assert.equal(stuck.fake.members.length, 3);
});

test("a member still listed 30 s after an accepted removal is a timeout, not a success", async () => {
  const { fake, deps, timers } = setup();
  fake.removeIsNoop = true;
  await assert.rejects(
    removeMember(deps, { ip: "127.0.0.11" }),
    (err) => withCode("NA_TIMEOUT")(err) && /still listed after 30 s/.test(String(err)),
  );
  assert.ok(timers.t >= 30_000 && timers.t <= 31_000);
});

test("remove by id: hex, decimal (beyond 2^53), and an id already gone is not an error", async () => {
  const { fake, deps } = setup();
  const e3 = fake.byName("e3");
  const byDecimal = await removeMember(deps, { id: e3.id.toString(10) });
  assert.equal(byDecimal.id, e3.id.toString(16));
  assert.equal(fake.has("e3"), false);
  const again = await removeMember(deps, { id: e3.id.toString(16) });
  assert.equal(again.removed, false);
  assert.equal(fake.commands().filter((c) => c.startsWith("member remove")).length, 1);
  await assert.rejects(removeMember(deps, { id: "not-an-id" }), withCode("NA_INVALID_INPUT"));
});
