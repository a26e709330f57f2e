import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isRunosError } from "../../src/common/errors.js";
import { newTag } from "../../src/wire/envelope.js";
import { grpc } from "../../src/wire/grpc.js";
import { ManualClock } from "./helpers/manual-clock.js";
import {
  AgentStream,
  b64,
  enrol,
  eventually,
  l2Client,
  startNodeward,
  type TestNodeward,
  unb64,
} from "./helpers/nodeward.js";

const heartbeat = {
  externalIpAddress: "198.51.100.4",
  isCp: false,
  isWorker: true,
  status: "ready",
  version: "1.6.0",
};

describe("NodeAgentStream", () => {
  const clock = new ManualClock();
  let t: TestNodeward;
  before(async () => {
    t = await startNodeward({ clock, config: { offlineAfterMs: 30_000, presenceTickMs: 1_000 } });
  });
  after(() => t.close());

  async function connect() {
    const node = await enrol(t);
    const stream = new AgentStream(l2Client(t, node));
    await eventually(() => t.nw.hub.get(node.nid) !== undefined);
    return { node, stream };
  }

  test("a heartbeat is answered with the same tag and written in the next presence tick", async () => {
    const { node, stream } = await connect();
    const tag = newTag();
    const v2 = { ...heartbeat, nodeIp: "10.0.0.7", vpnIp: "172.24.1.7", hostname: "worker-7" };
    stream.send({ type: "NodeAgentHeartbeatToServer", jsonB64: b64(v2), tag });
    const answer = await stream.next((m) => m.tag === tag);
    assert.equal(answer.type, "NodeAgentHeartbeatToServerResponse");
    assert.deepEqual(unb64(answer.jsonB64), { isHealthy: true, message: "" });
    assert.equal(t.nw.presence.view(node.nid).online, true);
    assert.equal((await t.nw.store.getNode(node.nid))?.version, null, "not written per heartbeat");
    clock.advance(1_000);
    await t.nw.presence.flush();
    const stored = await t.nw.store.getNode(node.nid);
    assert.equal(stored?.version, "1.6.0");
    assert.equal(stored?.externalIp, "198.51.100.4");
    assert.equal(stored?.isWorker, true);
    assert.equal(stored?.nodeIp, "10.0.0.7");
    assert.equal(stored?.vpnIp, "172.24.1.7");
    assert.equal(stored?.hostname, "worker-7");
    assert.match(stored?.observedAddr ?? "", /127\.0\.0\.1|::1/);
    stream.close();
  });

  test("hello exchange: capabilities in, nodeward hello out with the nid", async () => {
    const { node, stream } = await connect();
    const tag = newTag();
    stream.send({
      type: "RUNOS_AGENT_HELLO",
      jsonB64: b64({ version: "2.0.0", capabilities: ["csr", "peers-full"] }),
      tag,
    });
    const answer = await stream.next((m) => m.tag === tag);
    assert.equal(answer.type, "RUNOS_NODEWARD_HELLO");
    const hello = unb64(answer.jsonB64) as { nid: string; capabilities: string[]; version: string };
    assert.equal(hello.nid, node.nid);
    assert.ok(hello.capabilities.includes("hello"));
    assert.deepEqual(t.nw.hub.get(node.nid)?.capabilities, ["csr", "peers-full"]);
    stream.close();
  });

  test("AmIVIPHolder and GetControlPlaneNodes get their answers with the same tag", async () => {
    const { stream } = await connect();
    const vipTag = newTag();
    const cpTag = newTag();
    stream.send({ type: "AmIVIPHolder", jsonB64: "e30=", tag: vipTag });
    stream.send({ type: "GetControlPlaneNodes", jsonB64: "", tag: cpTag });
    const vip = await stream.next((m) => m.tag === vipTag);
    assert.equal(vip.type, "AmIVIPHolderResponse");
    // `vip` is a runos addition: the cluster's 172.24.<c>.254
    assert.deepEqual(unb64(vip.jsonB64), { isHolder: false, generation: 0, vip: "172.24.1.254" });
    const cp = await stream.next((m) => m.tag === cpTag);
    assert.equal(cp.type, "GetControlPlaneNodesResponse");
    assert.deepEqual(unb64(cp.jsonB64), []);
    stream.close();
  });

  test("hub.request round trip: the agent answers GET_NODE_STATUS with the instruction's tag", async () => {
    const { node, stream } = await connect();
    const pending = t.nw.hub.request(node.nid, "GET_NODE_STATUS", {}, 5_000);
    const instruction = await stream.next((m) => m.type === "GET_NODE_STATUS");
    assert.deepEqual(unb64(instruction.jsonB64), {});
    stream.send({ type: "NODE_STATUS", jsonB64: b64({ nodeIsReady: true }), tag: instruction.tag });
    assert.deepEqual(await pending, { type: "NODE_STATUS", payload: { nodeIsReady: true } });

    const failing = t.nw.hub.request(node.nid, "GET_NODE_STATUS", {}, 5_000);
    const second = await stream.next((m) => m.type === "GET_NODE_STATUS");
    stream.send({ type: "ERROR", jsonB64: "kubectl: not found", tag: second.tag });
    assert.deepEqual(await failing, { type: "ERROR", error: "kubectl: not found" });
    stream.close();
  });

  test("requests time out on the injected clock and are rejected when the stream ends", async () => {
    const { node, stream } = await connect();
    const timedOut = t.nw.hub.request(node.nid, "GET_NODE_STATUS", {}, 2_000);
    await stream.next((m) => m.type === "GET_NODE_STATUS");
    clock.advance(2_001);
    await assert.rejects(timedOut, (err) => isRunosError(err) && err.code === "NA_TIMEOUT");

    const orphaned = t.nw.hub.request(node.nid, "GET_NODE_STATUS", {}, 60_000);
    await stream.next((m) => m.type === "GET_NODE_STATUS");
    stream.close();
    await assert.rejects(orphaned, (err) => isRunosError(err) && err.code === "NA_STREAM_CLOSED");
    await assert.rejects(
      t.nw.hub.request(node.nid, "GET_NODE_STATUS", {}, 1_000),
      (err) => isRunosError(err) && err.code === "NA_CONFLICT",
    );
  });

  test("a new stream of the same node replaces the old one", async () => {
    const { node, stream: first } = await connect();
    const firstSession = t.nw.hub.get(node.nid);
    const second = new AgentStream(l2Client(t, node));
    await eventually(() => t.nw.hub.get(node.nid) !== firstSession && t.nw.hub.get(node.nid) !== undefined);
    const status = await first.ended;
    assert.equal((status as grpc.StatusObject).code, grpc.status.ABORTED);
    const pending = t.nw.hub.request(node.nid, "GET_NODE_STATUS", {}, 5_000);
    const instruction = await second.next((m) => m.type === "GET_NODE_STATUS");
    second.send({ type: "NODE_STATUS", jsonB64: b64({ nodeIsReady: false }), tag: instruction.tag });
    assert.equal((await pending).type, "NODE_STATUS");
    assert.equal(t.nw.presence.view(node.nid).online, true);
    second.close();
  });

  test("offline after offlineAfter without heartbeats (timer on the injected clock)", async () => {
    const { node, stream } = await connect();
    const tag = newTag();
    stream.send({ type: "NodeAgentHeartbeatToServer", jsonB64: b64(heartbeat), tag });
    await stream.next((m) => m.tag === tag);
    clock.advance(29_000);
    assert.equal(t.nw.presence.view(node.nid).online, true);
    clock.advance(2_000);
    assert.equal(t.nw.presence.view(node.nid).online, false);
    const again = newTag();
    stream.send({ type: "NodeAgentHeartbeatToServer", jsonB64: b64(heartbeat), tag: again });
    await stream.next((m) => m.tag === again);
    assert.equal(t.nw.presence.view(node.nid).online, true);
    stream.close();
    await eventually(() => !t.nw.presence.view(node.nid).online);
  });

  test("malformed and unknown messages are dropped without ending the stream", async () => {
    const { stream } = await connect();
    stream.send({ type: "UpgradeNodeK8sLog", jsonB64: "%%%not base64", tag: newTag() });
    stream.send({ type: "SOMETHING_NEW", jsonB64: b64({}), tag: newTag() });
    const badBeat = newTag();
    stream.send({ type: "NodeAgentHeartbeatToServer", jsonB64: "!!", tag: badBeat });
    const answer = await stream.next((m) => m.tag === badBeat);
    assert.equal((unb64(answer.jsonB64) as { isHealthy: boolean }).isHealthy, false);
    const ok = newTag();
    stream.send({ type: "AmIVIPHolder", jsonB64: "e30=", tag: ok });
    await stream.next((m) => m.tag === ok);
    stream.close();
  });

  test("UpgradeNodeK8sLog is stored as a node log with node-log severity", async () => {
    const { node, stream } = await connect();
    stream.send({
      type: "UpgradeNodeK8sLog",
      jsonB64: b64({ message: "kubeadm upgrade failed", severity: 3 }),
      tag: newTag(),
    });
    await eventually(async () =>
      (await t.nw.store.listNodelogs(node.nid, 10)).some((l) => l.type === "UpgradeNodeK8s"),
    );
    const entry = (await t.nw.store.listNodelogs(node.nid, 10)).find((l) => l.type === "UpgradeNodeK8s");
    assert.equal(entry?.severity, 1);
    stream.close();
  });

  test("deleting a node ends its stream with UNAUTHENTICATED", async () => {
    const { node, stream } = await connect();
    await t.nw.deleteNode(node.nid);
    const status = (await stream.ended) as grpc.StatusObject;
    assert.equal(status.code, grpc.status.UNAUTHENTICATED);
  });
});
