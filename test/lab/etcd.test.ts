// etcd membership against a real etcd 3.4 cluster with TLS on loopback (test/lab/etcd-cluster.ts):
// `runos etcd list|remove` through main() and REMOVE_ETCD_MEMBER through the dispatcher, with the
// real etcdctl port. Members sit on 127.0.0.1, 127.0.0.10 and 127.0.0.11, so "127.0.0.1" has a
// real near miss. Three clusters, each on its own ports and temp dir, torn down by PID.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { Io } from "../../src/agent/cli/io.js";
import { dispatchInstruction } from "../../src/agent/daemon/dispatch.js";
import { configuredEtcdPort } from "../../src/agent/etcd/settings.js";
import { execArgv } from "../../src/agent/host/exec.js";
import { createPaths } from "../../src/agent/host/paths.js";
import { createHandlerRegistry } from "../../src/agent/instructions/index.js";
import { main } from "../../src/agent/main.js";
import { silentLogger } from "../../src/common/log.js";
import { encodeJsonB64 } from "../../src/wire/envelope.js";
import { EtcdLabCluster, etcdLabSkipReason, type LabMember } from "./etcd-cluster.js";

const members: LabMember[] = [
  { name: "e1", ip: "127.0.0.1" },
  { name: "e2", ip: "127.0.0.10" },
  { name: "e3", ip: "127.0.0.11" },
];

/** `runos ARGV` in-process with RUNOS_ROOT = the cluster's dir (where its etcd PKI lives). */
async function runos(cluster: EtcdLabCluster, argv: string[]) {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    out: (t) => {
      stdout += `${t}\n`;
    },
    err: (t) => {
      stderr += `${t}\n`;
    },
    color: false,
    isTty: false,
  };
  const code = await main(argv, io, createPaths(cluster.root));
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown> };
}

const skip = etcdLabSkipReason();
const clusters: EtcdLabCluster[] = [];

async function startCluster(clientPort: number, strictReconfigCheck: boolean) {
  const cluster = new EtcdLabCluster({ members, clientPort, strictReconfigCheck });
  clusters.push(cluster);
  await cluster.start();
  return cluster;
}

describe("etcd membership (real etcd 3.4, TLS, loopback)", { skip, timeout: 90_000 }, () => {
  after(async () => {
    for (const cluster of clusters) await cluster.destroy();
  });

  test("list, then remove a follower by IP with a near miss present (strict reconfig on)", async (t) => {
    const cluster = await startCluster(24411, true);
    const e1 = cluster.member("e1");
    const local = ["--endpoints", e1.clientUrl]; // certificates: kubeadm's default paths under RUNOS_ROOT

    const list = await runos(cluster, ["etcd", "list", "--json", ...local]);
    assert.equal(list.code, 0, list.stdout + list.stderr);
    const info = list.json() as {
      members: { name: string; id: string; health: string }[];
      leaderName: string;
    };
    assert.deepEqual(info.members.map((m) => m.name).sort(), ["e1", "e2", "e3"]);
    assert.ok(info.members.every((m) => m.health === "healthy" && /^[0-9a-f]+$/.test(m.id)));
    if (info.leaderName === "e1") {
      const e3Id = info.members.find((m) => m.name === "e3")?.id ?? "";
      assert.equal(cluster.etcdctl(e1.clientUrl, ["move-leader", e3Id]).code, 0, "test setup: e1 a follower");
    }

    const started = Date.now();
    const removed = await runos(cluster, [
      "etcd",
      "remove",
      "--ip",
      "127.0.0.1",
      "--yes",
      "--json",
      ...local,
    ]);
    const ms = Date.now() - started;
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    const result = removed.json() as {
      removed: boolean;
      name: string;
      removeAttempts: number;
      wasLeader: boolean;
    };
    assert.equal(result.removed, true);
    assert.equal(result.name, "e1");
    assert.equal(result.wasLeader, false);
    const rest = [cluster.member("e2"), cluster.member("e3")];
    assert.deepEqual(cluster.memberNames(rest), ["e2", "e3"], "only the exact IP was removed");
    assert.ok(await cluster.waitExit(e1, 5_000), "the removed member stops by itself");
    assert.equal(cluster.etcdctl(cluster.endpoints(rest), ["put", "after-remove", "ok"]).code, 0);
    t.diagnostic(
      `follower removed by IP in ${ms} ms, ${result.removeAttempts} attempt(s) (strict reconfig check)`,
    );
  });

  test("REMOVE_ETCD_MEMBER on the leader: leadership moves first, no orphan, writes succeed", async (t) => {
    const cluster = await startCluster(24421, true);
    const leaderName = cluster.leaderName();
    assert.ok(leaderName, "a leader was elected");
    const leader = cluster.member(leaderName);
    const paths = createPaths(cluster.root);
    const deps = {
      handlers: createHandlerRegistry(),
      context: {
        host: { etcd: configuredEtcdPort(paths, execArgv, { endpoints: cluster.member("e1").clientUrl }) },
        signal: new AbortController().signal,
        node: () => ({ nid: "n1", ip: "127.0.0.1" }),
      },
      log: silentLogger(),
    } as unknown as Parameters<typeof dispatchInstruction>[0];

    const started = Date.now();
    const answer = await dispatchInstruction(deps, {
      type: "REMOVE_ETCD_MEMBER",
      jsonB64: encodeJsonB64({ node_ip: leader.ip }),
      tag: "lab-1",
    });
    const ms = Date.now() - started;
    assert.deepEqual(answer, { type: "NO_CONTENT", jsonB64: "e30=", tag: "lab-1" }, answer?.jsonB64);
    const rest = cluster.members.filter((m) => m !== leader);
    const writeAt = Date.now();
    assert.equal(cluster.etcdctl(cluster.endpoints(rest), ["put", "after-leader-remove", "ok"]).code, 0);
    const writeMs = Date.now() - writeAt;
    assert.deepEqual(
      cluster.memberNames(rest),
      rest.map((m) => m.name),
      "the old leader is no longer a member",
    );
    const newLeader = cluster.leaderName(rest);
    assert.ok(newLeader && newLeader !== leaderName, `leader now ${newLeader}`);
    assert.ok(await cluster.waitExit(leader, 5_000), "the removed leader stops by itself");
    t.diagnostic(
      `leader ${leaderName} removed in ${ms} ms (moved to ${newLeader} first); write after: ${writeMs} ms`,
    );
  });

  test("remove by decimal id, then a removal that would break quorum is refused", async (t) => {
    const cluster = await startCluster(24431, false);
    const e1 = cluster.member("e1");
    const local = ["--endpoints", e1.clientUrl];
    const raw = cluster.etcdctl(e1.clientUrl, ["member", "list", "-w", "json"]).stdout;
    const e3Decimal = /"ID":(\d+),"name":"e3"/.exec(raw)?.[1] ?? "";
    assert.ok(e3Decimal.length >= 16, raw);

    let started = Date.now();
    const byId = await runos(cluster, ["etcd", "remove", "--id", e3Decimal, "--yes", "--json", ...local]);
    const byIdMs = Date.now() - started;
    assert.equal(byId.code, 0, byId.stdout + byId.stderr);
    assert.equal((byId.json() as { id: string }).id, BigInt(e3Decimal).toString(16));
    assert.ok(await cluster.waitExit(cluster.member("e3"), 5_000));

    const e2 = cluster.member("e2");
    await cluster.kill(e2); // two members left, one of them down: no quorum
    started = Date.now();
    for (const ip of [e1.ip, e2.ip]) {
      const refused = await runos(cluster, ["etcd", "remove", "--ip", ip, "--yes", "--json", ...local]);
      assert.equal(refused.code, 1, refused.stdout);
      const error = (refused.json() as { error: { code: string; message: string } }).error;
      assert.equal(error.code, "NA_ETCD_QUORUM", error.message);
    }
    const refusedMs = Date.now() - started;
    assert.deepEqual(cluster.memberNames([e1]), ["e1", "e2"], "nothing was removed");
    t.diagnostic(`removed by decimal id in ${byIdMs} ms; two quorum refusals in ${refusedMs} ms`);
  });
});

if (skip) test("etcd membership lab", { skip }, () => {});
