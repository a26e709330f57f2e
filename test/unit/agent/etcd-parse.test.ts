import assert from "node:assert/strict";
import { test } from "node:test";
import { collectClusterInfo } from "../../../src/agent/etcd/cluster.js";
import { memberIdCandidates, memberIdDecimal, parseJsonLossless } from "../../../src/agent/etcd/member-id.js";
import { parseEndpoints } from "../../../src/agent/etcd/settings.js";
import { membersWithIp } from "../../../src/agent/etcd/target.js";
import { createEtcdctlPort, etcdctlError } from "../../../src/agent/host/etcdctl.js";
import type { ExecResult } from "../../../src/agent/host/exec.js";
import { isRunosError } from "../../../src/common/errors.js";
import { FakeEtcdctl, fixture } from "./etcd-fake.js";

const local = "https://127.0.0.1:24379";

/** The real port over an exec that answers each subcommand with a recorded output. */
function replay(outputs: Record<string, Partial<ExecResult>>) {
  const calls: string[][] = [];
  const port = createEtcdctlPort({
    exec: async (request) => {
      calls.push([...request.argv]);
      const key = Object.keys(outputs).find((k) => request.argv.join(" ").endsWith(k));
      if (!key) throw new Error(`no recording for ${request.argv.join(" ")}`);
      return {
        exitCode: 0,
        signal: null,
        stdout: "",
        stderr: "",
        durationMs: 1,
        timedOut: false,
        ...outputs[key],
      };
    },
    settings: () => ({
      endpoints: [local],
      tls: { cacert: "/pki/ca.crt", cert: "/pki/c.crt", key: "/pki/c.key" },
    }),
    fileExists: () => true,
  });
  return { port, calls };
}

test("ids beyond 2^53 come out of etcdctl's JSON exactly, in the hex etcdctl's table shows", async () => {
  const { port, calls } = replay({ "member list": { stdout: fixture("member-list-3.json") } });
  const list = await port.memberList();
  const table = fixture("member-list-3.table.txt");
  for (const member of list.members) {
    const row = table.split("\n").find((line) => line.includes(` ${member.name} |`));
    assert.ok(row?.includes(`| ${member.id} |`), `${member.name}: ${member.id} not in ${row}`);
  }
  assert.deepEqual(
    list.members.map((m) => m.id),
    ["e78f32147ad0a6ba", "eb38fe5db8765368", "eda58d8f62e51852"],
  );
  assert.equal(memberIdDecimal("eda58d8f62e51852"), "17124248805125199954");
  assert.equal(list.answeredBy, "eda58d8f62e51852");
  assert.equal(list.clusterId, BigInt("14425164101666276521").toString(16));
  // JSON.parse alone would have rounded it
  assert.notEqual(BigInt(JSON.parse("17124248805125199954") as number), 17124248805125199954n);
  assert.deepEqual(calls[0], [
    "etcdctl",
    `--endpoints=${local}`,
    "--cacert=/pki/ca.crt",
    "--cert=/pki/c.crt",
    "--key=/pki/c.key",
    "--dial-timeout=2s",
    "--command-timeout=5s",
    "-w",
    "json",
    "member",
    "list",
  ]);
});

test("the lossless parse leaves digits inside strings alone", () => {
  const parsed = parseJsonLossless(
    '{"name":"n 17124248805125199954 \\" 1","ID":17124248805125199954,"small":8}',
  ) as {
    name: string;
    ID: string;
    small: number;
  };
  assert.equal(parsed.name, 'n 17124248805125199954 " 1');
  assert.equal(parsed.ID, "17124248805125199954");
  assert.equal(parsed.small, 8);
});

test("member ids are accepted in hex (with or without 0x) and decimal", () => {
  assert.deepEqual(memberIdCandidates("eda58d8f62e51852"), ["eda58d8f62e51852"]);
  assert.deepEqual(memberIdCandidates("0xEDA58D8F62E51852"), ["eda58d8f62e51852"]);
  assert.deepEqual(memberIdCandidates("17124248805125199954"), ["eda58d8f62e51852"]); // 20 digits: decimal only
  assert.deepEqual(memberIdCandidates("0000eda58d8f62e51852".slice(4)), ["eda58d8f62e51852"]);
  // digits only and short: both readings; the member list decides
  assert.deepEqual(memberIdCandidates("1234"), ["1234", "4d2"]);
  for (const bad of ["", "xyz", "18446744073709551616", "0x1ffffffffffffffff", "-1"]) {
    assert.throws(
      () => memberIdCandidates(bad),
      (err) => isRunosError(err) && err.code === "NA_INVALID_INPUT",
    );
  }
});

test("an unstarted learner (recorded) has no name, no client URL and unknown health", async () => {
  const { port } = replay({
    "member list": { stdout: fixture("member-list-unstarted-learner.json") },
    "endpoint health": { stdout: fixture("endpoint-health-3.json") },
    "endpoint status": { stdout: fixture("endpoint-status-3.json") },
  });
  const info = await collectClusterInfo(port);
  const learner = info.members.find((m) => m.isLearner);
  assert.deepEqual(learner && { ...learner }, {
    id: "df885803555e0d06",
    name: "",
    peerUrls: ["https://127.0.0.12:24380"],
    clientUrls: [],
    started: false,
    isLearner: true,
    isLeader: false,
    health: "unknown",
  });
  assert.equal(info.leaderId, "e78f32147ad0a6ba");
  assert.equal(info.leaderName, "e2");
  assert.equal(info.isHealthy, true, "learners do not vote");
  assert.equal(info.raftIndex, 8);
  assert.equal(info.dbSizeBytes, 20480);
});

test("one member down (recorded): partial status and health, quorum held, not healthy", async () => {
  const { port } = replay({
    "member list": { stdout: fixture("member-list-3.json") },
    "endpoint health": {
      exitCode: 1,
      stdout: fixture("endpoint-health-one-down.json"),
      stderr: "Error: unhealthy cluster",
    },
    "endpoint status": {
      exitCode: 1,
      stdout: fixture("endpoint-status-one-down.json"),
      stderr: "Failed to get",
    },
  });
  const info = await collectClusterInfo(port);
  const health = Object.fromEntries(info.members.map((m) => [m.name, m.health]));
  assert.deepEqual(health, { e1: "healthy", e2: "unhealthy", e3: "healthy" });
  assert.equal(info.leaderName, "e3");
  assert.equal(info.hasQuorum, true);
  assert.equal(info.isHealthy, false);
});

test("no leader (recorded): leaderId is empty, never guessed", async () => {
  const { port } = replay({
    "member list": { stdout: fixture("member-list-3.json") },
    "endpoint health": { exitCode: 1, stdout: fixture("endpoint-health-no-quorum.json") },
    "endpoint status": { stdout: fixture("endpoint-status-no-leader.json") },
  });
  const info = await collectClusterInfo(port);
  assert.equal(info.leaderId, "");
  assert.equal(info.hasQuorum, false);
  assert.ok(info.members.every((m) => !m.isLeader));
});

test("member remove outcomes come from etcdctl's error text (recorded)", async () => {
  const unhealthy = replay({
    "member remove abc": { exitCode: 1, stderr: fixture("member-remove-unhealthy.stderr") },
  });
  assert.equal(await unhealthy.port.memberRemove("abc"), "unhealthy-cluster");
  const gone = replay({
    "member remove abc": { exitCode: 1, stderr: fixture("member-remove-not-found.stderr") },
  });
  assert.equal(await gone.port.memberRemove("abc"), "not-found");
  const removed = replay({ "member remove abc": { stdout: fixture("member-remove-ok.json") } });
  assert.equal(await removed.port.memberRemove("abc"), "removed");
  assert.equal(
    etcdctlError(fixture("move-leader-not-leader.stderr")),
    "no leader endpoint given at [https://127.0.0.1:24379]",
  );
});

test("plain http endpoints get no TLS flags; missing certificate files are a clear error", async () => {
  const calls: string[][] = [];
  const exec = async (request: { argv: readonly string[] }) => {
    calls.push([...request.argv]);
    return {
      exitCode: 0,
      signal: null,
      stdout: fixture("member-list-3.json"),
      stderr: "",
      durationMs: 1,
      timedOut: false,
    };
  };
  const tls = { cacert: "/nope/ca.crt", cert: "/nope/c.crt", key: "/nope/c.key" };
  const http = createEtcdctlPort({ exec, settings: () => ({ endpoints: ["http://127.0.0.1:2379"], tls }) });
  await http.memberList();
  assert.ok(!calls[0]?.some((a) => a.startsWith("--cacert")));
  const https = createEtcdctlPort({ exec, settings: () => ({ endpoints: ["https://127.0.0.1:2379"], tls }) });
  await assert.rejects(
    https.memberList(),
    (err) => isRunosError(err) && err.code === "NA_NOT_FOUND" && /\/nope\/ca\.crt/.test(err.message),
  );
  assert.throws(() => parseEndpoints("127.0.0.1:2379"), /not an etcd endpoint URL/);
  assert.deepEqual(parseEndpoints(" https://a:2379, http://b:2379 "), ["https://a:2379", "http://b:2379"]);
});

test("exact IP match: 127.0.0.1 does not hit 127.0.0.10; IPv6 in brackets, any spelling", async () => {
  const fake = FakeEtcdctl.threeMembers();
  const { port } = replay({
    "member list": { stdout: fixture("member-list-ipv6.json") },
    "endpoint health": { stdout: "[]" },
    "endpoint status": { stdout: "[]" },
  });
  const v6 = await collectClusterInfo(port);
  assert.deepEqual(
    membersWithIp(v6.members, "fd00:0:0::1").map((m) => m.id),
    [BigInt("12783034320115041365").toString(16)],
  );
  assert.equal(membersWithIp(v6.members, "[::1]").length, 1);
  assert.equal(membersWithIp(v6.members, "fd00::10").length, 0);

  const real = createEtcdctlPort({
    exec: fake.exec,
    settings: () => ({ endpoints: [local], tls: { cacert: "", cert: "", key: "" } }),
    fileExists: () => true,
  });
  const v4 = await collectClusterInfo(real);
  assert.deepEqual(
    membersWithIp(v4.members, "127.0.0.1").map((m) => m.name),
    ["e1"],
  );
  assert.deepEqual(
    membersWithIp(v4.members, "127.0.0.10").map((m) => m.name),
    ["e2"],
  );
  assert.equal(membersWithIp(v4.members, "127.0.0.100").length, 0);
  assert.throws(() => membersWithIp(v4.members, "127.0.0."), /not an IP address/);
});

test("the fake etcdctl answers exactly like the recorded etcdctl", async () => {
  const fake = FakeEtcdctl.threeMembers();
  const list = await fake.exec({
    argv: ["etcdctl", `--endpoints=${local}`, "-w", "json", "member", "list"],
    timeoutMs: 1,
  });
  assert.equal(list.stdout, fixture("member-list-3.json").trim());
  const endpoints = fake.members.map((m) => m.clientUrls[0]).join(",");
  const status = await fake.exec({
    argv: ["etcdctl", `--endpoints=${endpoints}`, "-w", "json", "endpoint", "status"],
    timeoutMs: 1,
  });
  const recorded = fixture("endpoint-status-3.json").trim();
  // same fields and values, endpoint order aside
  const sortByEndpoint = (text: string) =>
    (JSON.parse(text.replace(/(\d{16,})/g, '"$1"')) as { Endpoint: string }[]).sort((a, b) =>
      a.Endpoint.localeCompare(b.Endpoint),
    );
  assert.deepEqual(sortByEndpoint(status.stdout), sortByEndpoint(recorded));
});
