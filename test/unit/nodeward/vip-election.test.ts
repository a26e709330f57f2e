import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLogger } from "../../../src/common/log.js";
import { desiredPeersFor } from "../../../src/nodeward/cluster/peers.js";
import { VipElection, type VipStore } from "../../../src/nodeward/cluster/vip-election.js";
import { vipRoute } from "../../../src/nodeward/cluster/vip-route.js";
import type { PresenceView } from "../../../src/nodeward/hub/presence.js";
import type { InstructionAnswer } from "../../../src/nodeward/hub/session.js";
import type { ClusterRecord, NodeRecord, NodeRole } from "../../../src/nodeward/store/repository.js";
import { ManualClock } from "../../nodeward/helpers/manual-clock.js";
import { nodeRecord } from "./node-record.js";

const ref = { aid: "acme", cluster: "c" };
const vip = "172.24.5.254";
const fenceMs = 20_000;

type Behaviour = "ok" | "silent" | "refuse";

/**
 * A cluster of emulated agents: each applies VIP instructions with the agent's fencing rule
 * (only a newer generation applies), so the test can check who holds the VIP at every step.
 */
class Harness {
  readonly clock = new ManualClock(1_000_000);
  readonly nodes: NodeRecord[] = [];
  cluster: ClusterRecord = {
    aid: "acme",
    name: "c",
    createdAt: 0,
    vipHolder: null,
    vipGeneration: 0,
    idx: 5,
  };
  readonly views = new Map<string, PresenceView>();
  readonly behaviour = new Map<string, Behaviour>();
  readonly agents = new Map<string, { applied: number; holding: boolean }>();
  readonly sent: string[] = [];
  /** Every recorded (holder, generation), in order. */
  readonly records: string[] = [];
  readonly overlapAt: string[] = [];
  changed = 0;
  evaluations = 0;
  readonly election: VipElection;

  constructor() {
    const store: VipStore = {
      getCluster: async () => {
        this.evaluations += 1;
        return structuredClone(this.cluster);
      },
      getNode: async (nid) => this.nodes.find((n) => n.nid === nid),
      liveNodesOfCluster: async () => this.nodes.filter((n) => n.deletedAt === null),
      setVipHolder: async (_aid, _name, holder, generation, expected) => {
        if (this.cluster.vipGeneration !== expected) return false;
        this.cluster = { ...this.cluster, vipHolder: holder, vipGeneration: generation };
        this.records.push(`${holder ?? "-"}@${generation}`);
        return true;
      },
    };
    this.election = new VipElection({
      store,
      presence: { view: (nid) => this.view(nid) },
      connected: (nid) => this.view(nid).connected,
      request: (nid, type, payload) =>
        this.request(nid, type, payload as { generation: number; vip: string }),
      clock: this.clock,
      log: silentLogger(),
      onHolderChanged: () => this.changed++,
      fenceMs,
    });
  }

  add(nid: string, role: NodeRole, online = true, behaviour: Behaviour = "ok"): this {
    this.nodes.push(node(nid, role, this.nodes.length));
    this.behaviour.set(nid, behaviour);
    this.agents.set(nid, { applied: 0, holding: false });
    this.setOnline(nid, online);
    return this;
  }

  setOnline(nid: string, online: boolean): void {
    const now = this.clock.now();
    const before = this.views.get(nid);
    this.views.set(nid, {
      online,
      connected: online,
      lastHeartbeatAt: online ? now : (before?.lastHeartbeatAt ?? null),
      connectedAt: online ? now : (before?.connectedAt ?? null),
      observedAddr: null,
    });
  }

  setRole(nid: string, role: NodeRole): void {
    const found = this.nodes.find((n) => n.nid === nid);
    if (found) found.role = role;
  }

  holders(): string[] {
    return [...this.agents].filter(([, a]) => a.holding).map(([nid]) => nid);
  }

  private view(nid: string): PresenceView {
    return (
      this.views.get(nid) ?? {
        online: false,
        connected: false,
        lastHeartbeatAt: null,
        connectedAt: null,
        observedAddr: null,
      }
    );
  }

  private request(
    nid: string,
    type: string,
    payload: { generation: number; vip: string },
  ): Promise<InstructionAnswer> {
    this.sent.push(`${type} ${nid} ${payload.generation}`);
    assert.equal(payload.vip, vip, "the VIP address travels in the payload");
    const behaviour = this.behaviour.get(nid);
    if (!this.view(nid).connected) return Promise.reject(new Error(`node ${nid} is offline`));
    if (behaviour === "silent") {
      return new Promise((_resolve, reject) => {
        this.clock.setTimeout(() => reject(new Error("timeout")), type === "VIP_ASSIGN" ? 5_000 : 3_000);
      });
    }
    const agent = this.agents.get(nid) ?? { applied: 0, holding: false };
    const fresh = payload.generation > agent.applied;
    if (behaviour === "ok" && fresh) {
      agent.applied = payload.generation;
      agent.holding = type === "VIP_ASSIGN";
      if (this.holders().length > 1) this.overlapAt.push(this.sent.at(-1) ?? "");
    }
    const ok = behaviour === "ok" && fresh;
    const answerType = type === "VIP_ASSIGN" ? "VIP_ASSIGN_RESPONSE" : "VIP_RELEASE_RESPONSE";
    return Promise.resolve({ type: answerType, payload: ok ? { ok } : { ok, message: "refused" } });
  }

  /** Runs an evaluation while letting the manual clock move in steps. */
  async evaluate(advanceMs = 0, stepMs = 1_000): Promise<void> {
    const done = this.election.evaluate(ref);
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    for (let spent = 0; spent < advanceMs; spent += stepMs) {
      await flush();
      if (finished) break;
      this.clock.advance(stepMs);
    }
    await done;
  }
}

test("the first online control plane becomes holder; workers and offline nodes never do", async () => {
  const h = new Harness()
    .add("w1", "worker")
    .add("cpOff", "control-plane", false)
    .add("cpA", "control-plane");
  await h.evaluate();
  assert.deepEqual(h.sent, ["VIP_ASSIGN cpA 1"]);
  assert.deepEqual(h.records, ["cpA@1"]);
  assert.deepEqual(h.holders(), ["cpA"]);
  assert.equal(h.changed, 1, "the overlay is told to route the VIP to cpA");
  await h.evaluate();
  assert.deepEqual(h.sent, ["VIP_ASSIGN cpA 1"], "a healthy holder keeps it: nothing sent");
});

test("role change: the old holder is released before the next is assigned, with higher generations", async () => {
  const h = new Harness().add("A", "control-plane").add("B", "control-plane");
  await h.evaluate();
  h.setRole("A", "worker");
  await h.evaluate();
  assert.deepEqual(h.sent, ["VIP_ASSIGN A 1", "VIP_RELEASE A 2", "VIP_ASSIGN B 3"]);
  assert.deepEqual(h.records, ["A@1", "-@2", "B@3"], "one holder or none, never two");
  assert.deepEqual(h.holders(), ["B"]);
  assert.deepEqual(h.overlapAt, []);
});

test("an assign not acknowledged within 5 s goes to the next candidate with a higher generation", async () => {
  const h = new Harness().add("A", "control-plane", true, "silent").add("B", "control-plane");
  const started = h.clock.now();
  await h.evaluate(10_000, 500);
  assert.deepEqual(h.sent, ["VIP_ASSIGN A 1", "VIP_RELEASE A 2", "VIP_ASSIGN B 3"]);
  assert.deepEqual(h.records, ["A@1", "-@2", "B@3"]);
  assert.equal(h.clock.now() - started, 5_000, "handed over exactly when the 5 s passed");
  assert.deepEqual(h.holders(), ["B"]);
});

test("a refused assign (ok:false, e.g. stale) moves on at once", async () => {
  const h = new Harness().add("A", "control-plane", true, "refuse").add("B", "control-plane");
  await h.evaluate();
  assert.deepEqual(h.sent, ["VIP_ASSIGN A 1", "VIP_RELEASE A 2", "VIP_ASSIGN B 3"]);
  assert.equal(h.cluster.vipHolder, "B");
});

test("an unreachable holder keeps the VIP until the fence has passed since its last heartbeat", async () => {
  const h = new Harness().add("A", "control-plane").add("B", "control-plane");
  await h.evaluate();
  const lastBeat = h.clock.now();
  h.clock.advance(3_000);
  h.setOnline("A", false); // presence: silent (or stream gone)
  await h.evaluate();
  assert.deepEqual(h.sent, ["VIP_ASSIGN A 1"], "not before the holder has surely dropped it");
  h.clock.advance(lastBeat + fenceMs - 1 - h.clock.now());
  await flush();
  assert.deepEqual(h.sent, ["VIP_ASSIGN A 1"]);
  h.clock.advance(1); // the election's own wake-up fires
  await flush();
  await h.election.evaluate(ref);
  assert.deepEqual(h.sent, ["VIP_ASSIGN A 1", "VIP_RELEASE A 2", "VIP_ASSIGN B 3"]);
  assert.equal(h.cluster.vipHolder, "B");
});

test("a holder back before the fence (an agent restart) keeps it: no new generation", async () => {
  const h = new Harness().add("A", "control-plane").add("B", "control-plane");
  await h.evaluate();
  h.setOnline("A", false);
  await h.evaluate();
  h.clock.advance(1_500);
  h.setOnline("A", true);
  await h.evaluate();
  h.clock.advance(fenceMs);
  await flush();
  await h.election.evaluate(ref);
  assert.deepEqual(h.sent, ["VIP_ASSIGN A 1"]);
  assert.deepEqual(h.records, ["A@1"]);
});

test("a deleted holder is replaced at once; with nobody to take over a demoted holder is released", async () => {
  const h = new Harness().add("A", "control-plane").add("B", "control-plane");
  await h.evaluate();
  const a = h.nodes.find((n) => n.nid === "A");
  if (a) a.deletedAt = h.clock.now();
  h.setOnline("A", false);
  await h.evaluate();
  assert.equal(h.cluster.vipHolder, "B");
  assert.equal(h.cluster.vipGeneration, 3);

  h.setRole("B", "worker");
  await h.evaluate();
  assert.equal(h.cluster.vipHolder, null);
  assert.deepEqual(h.sent.slice(-1), ["VIP_RELEASE B 4"]);
  assert.equal(h.holders().includes("B"), false);
});

test("an unreachable holder with no one to take over stays recorded (it binds again when back)", async () => {
  const h = new Harness().add("A", "control-plane");
  await h.evaluate();
  h.setOnline("A", false);
  h.clock.advance(fenceMs + 1);
  await h.evaluate();
  assert.equal(h.cluster.vipHolder, "A");
  assert.deepEqual(h.sent, ["VIP_ASSIGN A 1"]);
});

test("generations strictly increase across many handovers and the agents never overlap", async () => {
  const h = new Harness().add("A", "control-plane").add("B", "control-plane").add("C", "control-plane");
  await h.evaluate();
  for (let round = 0; round < 4; round += 1) {
    const down = h.cluster.vipHolder ?? "";
    h.setRole(down, "worker");
    await h.evaluate();
    assert.notEqual(h.cluster.vipHolder, down);
    assert.deepEqual(h.holders(), [h.cluster.vipHolder]);
    h.setRole(down, "control-plane");
  }
  const generations = h.sent.map((s) => Number(s.split(" ")[2]));
  assert.deepEqual(
    generations,
    generations.map((_, i) => i + 1),
  );
  assert.deepEqual(h.overlapAt, []);
});

test("the overlay routes the VIP /32 through the holder's peer entry on every other node", () => {
  const nodes = [
    { ...node("A", "control-plane", 0), vpnPubKey: "KA", overlayIp: "172.24.5.1" },
    { ...node("B", "control-plane", 1), vpnPubKey: "KB", overlayIp: "172.24.5.2" },
    { ...node("C", "worker", 2), vpnPubKey: "KC", overlayIp: "172.24.5.3" },
  ];
  const route = vipRoute({ aid: "acme", name: "c", createdAt: 0, vipHolder: "B", vipGeneration: 3, idx: 5 });
  assert.deepEqual(route, { holder: "B", cidr: "172.24.5.254/32" });
  const inputs = { nodes, users: [], observed: () => null, vip: route };
  const onC = desiredPeersFor(nodes[2] as NodeRecord, inputs);
  assert.deepEqual(onC.find((p) => p.pubKey === "KB")?.allowedIps, ["172.24.5.254/32"]);
  assert.equal(onC.find((p) => p.pubKey === "KA")?.allowedIps, undefined);
  const onB = desiredPeersFor(nodes[1] as NodeRecord, inputs);
  assert.ok(
    onB.every((p) => !p.allowedIps),
    "the holder itself routes it to no peer",
  );
  assert.equal(
    vipRoute({ aid: "a", name: "c", createdAt: 0, vipHolder: null, vipGeneration: 2, idx: 5 }),
    undefined,
  );
});

test("presence changes of workers cost no evaluation; a control plane's do", async () => {
  const h = new Harness().add("w1", "worker", false).add("A", "control-plane", false);
  h.setOnline("w1", true);
  h.election.presenceChanged("w1");
  await flush();
  assert.equal(h.evaluations, 0);
  h.setOnline("A", true);
  h.election.presenceChanged("A");
  await flush();
  await h.election.evaluate(ref);
  assert.equal(h.cluster.vipHolder, "A");
});

function node(nid: string, role: NodeRole, order: number): NodeRecord {
  return nodeRecord(nid, { createdAt: order, overlayIp: `172.24.5.${order + 1}`, role });
}

function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
