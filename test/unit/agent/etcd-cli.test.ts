import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { CommandContext } from "../../../src/agent/cli/command.js";
import { createEtcdCommands } from "../../../src/agent/cli/etcd.js";
import type { Io } from "../../../src/agent/cli/io.js";
import { dispatchInstruction } from "../../../src/agent/daemon/dispatch.js";
import { createEtcdctlPort } from "../../../src/agent/host/etcdctl.js";
import { createPaths } from "../../../src/agent/host/paths.js";
import { createHandlerRegistry } from "../../../src/agent/instructions/index.js";
import { isRunosError } from "../../../src/common/errors.js";
import { silentLogger } from "../../../src/common/log.js";
import { encodeJsonB64 } from "../../../src/wire/envelope.js";
import { FakeEtcdctl, FakeTimers } from "./etcd-fake.js";
import { createFakeHost } from "./fake-host.js";

const local = "https://127.0.0.1:24379";

function portFor(fake: FakeEtcdctl) {
  return createEtcdctlPort({
    exec: fake.exec,
    settings: () => ({ endpoints: [local], tls: { cacert: "/ca", cert: "/c", key: "/k" } }),
    fileExists: () => true,
  });
}

function cli(fake: FakeEtcdctl, answer?: string) {
  const asked: string[] = [];
  const errors: string[] = [];
  const commands = createEtcdCommands({
    etcd: () => portFor(fake),
    ask: async (question) => {
      asked.push(question);
      return answer;
    },
    timers: new FakeTimers(),
  });
  const io: Io = { out: () => {}, err: (t) => errors.push(t), color: false, isTty: false };
  const ctx: CommandContext = {
    paths: createPaths(mkdtempSync(join(tmpdir(), "runos-etcd-cli-"))),
    log: silentLogger(),
    io,
    signal: new AbortController().signal,
  };
  return { commands, ctx, asked };
}

test("etcd list: spec 6.6 JSON shape (hex ids) and an aligned table", async () => {
  const fake = FakeEtcdctl.threeMembers();
  const { commands, ctx } = cli(fake);
  const output = await commands.list.run({}, [], ctx);
  const data = output.data as Record<string, unknown> & { members: Record<string, unknown>[] };
  for (const key of [
    "members",
    "leaderId",
    "leaderName",
    "clusterId",
    "raftIndex",
    "dbSizeBytes",
    "isHealthy",
  ]) {
    assert.ok(key in data, key);
  }
  assert.equal(data.leaderId, "e78f32147ad0a6ba");
  assert.equal(data.leaderName, "e2");
  assert.deepEqual(Object.keys(data.members[0] ?? {}).slice(0, 8), [
    "id",
    "name",
    "peerUrls",
    "clientUrls",
    "started",
    "isLearner",
    "isLeader",
    "health",
  ]);
  assert.match(output.human, /Leader: {10}e2 \(e78f32147ad0a6ba\)/);
  assert.match(output.human, /Overall Health: {2}healthy/);
  const rows = output.human.split("\n").filter((l) => /^[0-9a-f]{16} /.test(l));
  assert.equal(rows.length, 3);
  assert.match(
    rows.find((r) => r.includes(" e2 ")) ?? "",
    /started\s+healthy\s+Leader\s+https:\/\/127\.0\.0\.10:24380/,
  );
});

test("etcd remove asks first: closed stdin fails with a hint to use --yes, 'n' aborts, 'y' removes", async () => {
  const fake = FakeEtcdctl.threeMembers();
  const closed = cli(fake, undefined);
  await assert.rejects(
    closed.commands.remove.run({ ip: "127.0.0.11" }, [], closed.ctx),
    (err) => isRunosError(err) && err.code === "NA_USAGE" && /--yes/.test(err.hint ?? ""),
  );
  assert.match(closed.asked[0] ?? "", /About to remove etcd member with IP 127\.0\.0\.11\. .* \[y\/N\]: $/);

  const no = cli(fake, "n");
  const aborted = await no.commands.remove.run({ ip: "127.0.0.11" }, [], no.ctx);
  assert.equal(aborted.human, "Aborted; no member was removed.");
  assert.equal(fake.members.length, 3);
  assert.ok(!fake.commands().includes("member remove"), "nothing may run before the answer");

  const yes = cli(fake, "YES");
  const removed = await yes.commands.remove.run({ ip: "127.0.0.11" }, [], yes.ctx);
  assert.match(
    removed.human,
    /^Successfully removed etcd member with IP 127\.0\.0\.11 \(eb38fe5db8765368, e3\)/,
  );
  assert.equal(fake.has("e3"), false);
});

test("etcd remove --yes does not ask; --ip and --id are exclusive and checked first", async () => {
  const fake = FakeEtcdctl.threeMembers();
  const { commands, ctx, asked } = cli(fake);
  const result = await commands.remove.run({ id: "eb38fe5db8765368", yes: true, json: true }, [], ctx);
  assert.equal((result.data as { removed: boolean }).removed, true);
  assert.equal(asked.length, 0);
  for (const options of [{}, { ip: "127.0.0.1", id: "abc" }]) {
    await assert.rejects(
      commands.remove.run({ ...options, yes: true }, [], ctx),
      /exactly one of --ip and --id/,
    );
  }
  await assert.rejects(commands.remove.run({ ip: "10.0.0", yes: true }, [], ctx), /not an IP address/);
  assert.equal(asked.length, 0);
});

test("REMOVE_ETCD_MEMBER: NO_CONTENT on success, ERROR with the reason on refusal", async () => {
  const fake = FakeEtcdctl.threeMembers();
  const deps = {
    handlers: createHandlerRegistry(),
    context: {
      host: createFakeHost({ etcd: portFor(fake) }),
      signal: new AbortController().signal,
      node: () => ({ nid: "n1", ip: "127.0.0.1" }),
    },
    log: silentLogger(),
  };
  const send = (payload: unknown, tag: string) =>
    dispatchInstruction(deps, { type: "REMOVE_ETCD_MEMBER", jsonB64: encodeJsonB64(payload), tag });

  const done = await send({ node_ip: "127.0.0.10" }, "t1"); // the leader: moved first
  assert.deepEqual(done, { type: "NO_CONTENT", jsonB64: "e30=", tag: "t1" });
  assert.equal(fake.has("e2"), false);
  assert.equal(fake.removedLeaderDirectly, false);

  fake.byName("e3").up = false;
  const refused = await send({ node_ip: "127.0.0.1" }, "t2");
  assert.equal(refused?.type, "ERROR");
  assert.match(refused?.jsonB64 ?? "", /refusing to remove etcd member .* no quorum now/);

  const missing = await send({ node_ip: "127.0.0.99" }, "t3");
  assert.equal(missing?.jsonB64, "etcd member not found for IP: 127.0.0.99");
  const empty = await send({}, "t4");
  assert.match(empty?.jsonB64 ?? "", /needs node_ip/);
});
