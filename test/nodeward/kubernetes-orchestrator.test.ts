// The Kubernetes bootstrap in nodeward on a real SQLite store: one init per cluster even when two
// control planes ask at once or nodeward restarts, waiting with a retry hint, join data from a
// control plane's stream, control planes one at a time, and refusals of malformed join data.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { systemClock } from "../../src/common/clock.js";
import { silentLogger } from "../../src/common/log.js";
import { BundleStore } from "../../src/nodeward/bundles/bundle-store.js";
import { clusterIndices } from "../../src/nodeward/cluster/ipam.js";
import type { InstructionAnswer } from "../../src/nodeward/hub/session.js";
import { KubernetesOrchestrator } from "../../src/nodeward/kubernetes/orchestrator.js";
import type { Repository } from "../../src/nodeward/store/repository.js";
import { openSqliteRepository } from "../../src/nodeward/store/sqlite.js";
import { writeBundle } from "./helpers/bundle.js";
import { tempDir } from "./helpers/nodeward.js";

const hash = `sha256:${"0a".repeat(32)}`;
const encryptionKey = Buffer.alloc(32, 9).toString("base64");

describe("Kubernetes bootstrap orchestration", () => {
  let dir: { path: string; remove(): Promise<void> };
  let store: Repository;
  let answers: Map<string, (asCp: boolean) => InstructionAnswer>;
  let requests: { nid: string; type: string; payload: unknown }[];
  const connected = new Set<string>();
  const original = new Set<string>();

  const orchestrator = () =>
    new KubernetesOrchestrator({
      store,
      hub: {
        get: (nid) =>
          connected.has(nid) ? { capabilities: original.has(nid) ? [] : ["kubernetes-lists"] } : undefined,
        request: async (nid, type, payload) => {
          requests.push({ nid, type, payload });
          const answer = answers.get(nid);
          if (!answer) throw new Error(`node ${nid} is offline`);
          return answer((payload as { asCp: boolean }).asCp);
        },
      },
      bundles: new BundleStore(dir.path),
      clock: systemClock,
      log: silentLogger(),
      installerUrl: "http://nodeward:9190",
      onlineVersion: "v1.34.4",
      nodeChanged: () => {},
    });

  let seq = 0;
  async function addNode(hostname: string, role: "control-plane" | "worker"): Promise<string> {
    seq += 1;
    const nid = `n-${hostname}-${seq}`;
    await store.insertNode({
      nid,
      aid: "acme",
      cluster: "c1",
      machineId: nid,
      os: "debian-12",
      hostname,
      createdAt: Date.now(),
    });
    const idx = await store.assignClusterIndex("acme", "c1", clusterIndices);
    await store.setOverlayIp(nid, `172.24.${idx}.${seq}`);
    await store.setRole(nid, role);
    return nid;
  }

  const commandsOf = async (o: KubernetesOrchestrator, nid: string) =>
    (await o.installCommands(nid)).map((c) => c.command).join("\n");
  const notReady = (err: unknown) => {
    const e = err as {
      code?: number;
      details?: string;
      message?: string;
      metadata?: { get(k: string): unknown[] };
    };
    assert.equal(e.code, 9, `FAILED_PRECONDITION, got ${e.code} ${e.message}`);
    assert.match(e.details ?? e.message ?? "", /^.*NA_CLUSTER_NOT_READY/);
    assert.ok(Number(e.metadata?.get("runos-retry-after-ms")[0]) > 0, "a retry hint");
    return true;
  };

  before(async () => {
    dir = await tempDir("k8s-orch-");
    const src = join(dir.path, "src");
    await writeBundle(src);
    await new BundleStore(dir.path).import(src);
  });
  after(async () => dir.remove());
  beforeEach(async () => {
    store = await openSqliteRepository(join(dir.path, `db-${Date.now()}-${Math.random()}.sqlite`));
    await store.ensureCluster("acme", "c1", Date.now());
    answers = new Map();
    requests = [];
    connected.clear();
    original.clear();
  });

  test("an original agent (no kubernetes-lists capability) gets systemctl, ours gets runos service", async () => {
    const a = await addNode("cp-a", "control-plane");
    connected.add(a);
    assert.match(await commandsOf(orchestrator(), a), /runos service start kubelet/);
    original.add(a);
    const text = await commandsOf(orchestrator(), a);
    assert.match(text, /systemctl daemon-reload && systemctl enable kubelet && systemctl start kubelet/);
    assert.doesNotMatch(text, /runos service|--kubernetes/);
  });

  test("two control planes asking at once: exactly one gets kubeadm init, the other waits", async () => {
    const a = await addNode("cp-a", "control-plane");
    const b = await addNode("cp-b", "control-plane");
    const o = orchestrator();
    const results = await Promise.allSettled([o.installCommands(a), o.installCommands(b)]);
    const inits = results.filter(
      (r) => r.status === "fulfilled" && r.value.some((c) => c.command.includes("kubeadm init --config")),
    );
    assert.equal(inits.length, 1);
    const waiting = results.filter((r) => r.status === "rejected");
    assert.equal(waiting.length, 1);
    assert.ok(notReady((waiting[0] as PromiseRejectedResult).reason));
  });

  test("the init claim survives a nodeward restart: the init node gets init again, others wait", async () => {
    const a = await addNode("cp-a", "control-plane");
    const b = await addNode("cp-b", "control-plane");
    const w = await addNode("w-1", "worker");
    assert.match(await commandsOf(orchestrator(), a), /kubeadm init --config/);
    const restarted = orchestrator();
    assert.match(await commandsOf(restarted, a), /kubeadm init --config/);
    await assert.rejects(restarted.installCommands(b), notReady);
    await assert.rejects(restarted.installCommands(w), notReady);
  });

  test("after KUBERNETES_READY, joiners get join data fetched from a control plane, never twice the same slot", async () => {
    const a = await addNode("cp-a", "control-plane");
    const b = await addNode("cp-b", "control-plane");
    const c = await addNode("cp-c", "control-plane");
    const w = await addNode("w-1", "worker");
    const o = orchestrator();
    await o.installCommands(a);
    await o.statusReported(a, "KUBERNETES_READY");
    assert.equal((await o.state("acme", "c1"))?.state, "ready");
    connected.add(a);
    answers.set(a, (asCp) => ({
      type: "CLUSTER_JOIN_CMD",
      payload: asCp
        ? {
            joinCmd: `kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash} --control-plane --certificate-key ${"cd".repeat(32)}`,
            encryptionKey,
          }
        : {
            joinCmd: `kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash}`,
          },
    }));
    const worker = await commandsOf(o, w);
    assert.match(worker, /kubeadm join --config/);
    assert.match(worker, /token: abcdef\.0123456789abcdef/);
    assert.doesNotMatch(worker, /certificateKey/);
    const cp = await commandsOf(o, b);
    assert.match(cp, /certificateKey: cdcd/);
    assert.ok(cp.includes(`ENC_SECRET='${encryptionKey}'`));
    // cp-b holds the slot until it reports; cp-c waits, then goes once cp-b failed.
    await assert.rejects(
      o.installCommands(c),
      (err) => notReady(err) && /one at a time/.test(String((err as Error).message)),
    );
    await o.statusReported(b, "INSTALL_ERROR");
    assert.match(await commandsOf(o, c), /kubeadm join --config/);
    assert.deepEqual(
      requests.map((r) => [r.nid, r.type, r.payload]),
      [
        [a, "GET_CLUSTER_JOIN_CMD", { asCp: false }],
        [a, "GET_CLUSTER_JOIN_CMD", { asCp: true }],
        [a, "GET_CLUSTER_JOIN_CMD", { asCp: true }],
      ],
    );
  });

  for (const [why, payload] of [
    [
      "an injected command in the join line",
      {
        joinCmd: `kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash};reboot`,
      },
    ],
    ["an expired-looking empty join line (the original's failure mode)", { joinCmd: "" }],
    [
      "an extra kubeadm flag",
      {
        joinCmd: `kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash} --ignore-preflight-errors=all`,
      },
    ],
  ] as const) {
    test(`join data with ${why} is refused: the joiner gets no list and a reason`, async () => {
      const a = await addNode("cp-a", "control-plane");
      const w = await addNode("w-1", "worker");
      const o = orchestrator();
      await o.installCommands(a);
      await o.statusReported(a, "KUBERNETES_READY");
      connected.add(a);
      answers.set(a, () => ({ type: "CLUSTER_JOIN_CMD", payload }));
      await assert.rejects(
        o.installCommands(w),
        (err) => notReady(err) && /malformed kubeadm join line/.test(String((err as Error).message)),
      );
    });
  }

  test("a control plane that answers ERROR, or none connected, means waiting with the reason", async () => {
    const a = await addNode("cp-a", "control-plane");
    const w = await addNode("w-1", "worker");
    const o = orchestrator();
    await o.installCommands(a);
    await o.statusReported(a, "KUBERNETES_READY");
    await assert.rejects(
      o.installCommands(w),
      (err) => notReady(err) && /no control plane .* connected/.test(String((err as Error).message)),
    );
    connected.add(a);
    answers.set(a, () => ({
      type: "ERROR",
      error: "kubeadm token create failed: etcdserver: unhealthy cluster",
    }));
    await assert.rejects(
      o.installCommands(w),
      (err) => notReady(err) && /unhealthy cluster/.test(String((err as Error).message)),
    );
  });

  test("deleting the init node before it finished frees the claim for another control plane", async () => {
    const a = await addNode("cp-a", "control-plane");
    const b = await addNode("cp-b", "control-plane");
    const o = orchestrator();
    await o.installCommands(a);
    const node = await store.getNode(a);
    assert.ok(node);
    await o.nodeDeleted(node);
    assert.match(await commandsOf(o, b), /kubeadm init --config/);
  });

  test("a node without an overlay address, or with a hostname Kubernetes refuses, gets a clear error", async () => {
    await store.insertNode({
      nid: "n-x",
      aid: "acme",
      cluster: "c1",
      machineId: "m",
      os: "d",
      hostname: "x",
      createdAt: 0,
    });
    await assert.rejects(orchestrator().installCommands("n-x"), /runos install wireguard/);
    const bad = await addNode("Bad_Name", "worker");
    await assert.rejects(orchestrator().installCommands(bad), /not a valid Kubernetes node name/);
  });

  test("the list takes every file from nodeward's bundle with its sha256", async () => {
    const a = await addNode("cp-a", "control-plane");
    const text = await commandsOf(orchestrator(), a);
    const manifest = await new BundleStore(dir.path).manifest("v1.34.4");
    for (const [file, sum] of Object.entries(manifest.files)) {
      assert.ok(text.includes(`http://nodeward:9190/bundles/v1.34.4/${file}`), file);
      assert.ok(text.includes(sum), `${file} checksum`);
    }
    assert.doesNotMatch(text, /pkgs\.k8s\.io|registry\.k8s\.io\/v2|apt-get/);
  });
});
