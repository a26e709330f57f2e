import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { VpnPeerSchema } from "../../src/wire/gen/runos/nodeward/proto/l2sec/nodeward_l2sec_pb.js";
import {
  AgentStream,
  b64,
  type EnrolledNode,
  enrol,
  l2Client,
  startNodeward,
  type TestNodeward,
  unb64,
} from "./helpers/nodeward.js";

const keys = [
  "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
  "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
  "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=",
  "nVkdjIgKsDJl7cHOXTH0wuNTlJAvLK2guXbl6Ieb5lo=",
];

interface Member {
  node: EnrolledNode;
  stream: AgentStream;
}

/** A node that announces `caps`, answers every instruction, and has joined the overlay. */
async function join(t: TestNodeward, index: number, caps: string[]): Promise<Member> {
  const node = await enrol(t, { cluster: "fan" });
  const client = l2Client(t, node);
  const stream = new AgentStream(client);
  stream.send({
    type: "RUNOS_AGENT_HELLO",
    jsonB64: b64({ version: "test", capabilities: caps }),
    tag: `hello-${index}`,
  });
  await stream.next((m) => m.type === "RUNOS_NODEWARD_HELLO");
  await client.manualSync({
    nodePeer: create(VpnPeerSchema, {
      pubKey: keys[index] ?? "",
      endpointIp: `198.18.0.${20 + index}`,
      ip: "",
    }),
    nodeIsReady: false,
  });
  return { node, stream };
}

/** Answers the next peer update of `type` like an agent and returns its payload. */
async function nextUpdate(member: Member, type: string): Promise<Record<string, unknown>> {
  const message = await member.stream.next((m) => m.type === type, 5_000);
  member.stream.send({ type: "NODE_VPN_PEER", jsonB64: b64({ nodePeer: {} }), tag: message.tag });
  return unb64(message.jsonB64) as Record<string, unknown>;
}

/** Answers every peer update already sent, until none arrives for 300 ms. */
async function drainUpdates(member: Member): Promise<void> {
  for (;;) {
    const message = await member.stream.next((m) => m.type.includes("PEERS"), 300).catch(() => undefined);
    if (!message) return;
    member.stream.send({ type: "NODE_VPN_PEER", jsonB64: b64({}), tag: message.tag });
  }
}

describe("peer fan-out", () => {
  let t: TestNodeward;
  before(async () => {
    t = await startNodeward();
  });
  after(async () => {
    await t.close();
  });

  test("a join sends each delta-capable node one entry; an original-style node gets its full set", async () => {
    const a = await join(t, 0, ["peers-delta"]);
    const b = await join(t, 1, ["peers-delta"]);
    const legacy = await join(t, 2, []);
    // Let the first pushes settle: everyone holds a full set.
    await new Promise((r) => setTimeout(r, 500));
    for (const m of [a, b, legacy]) await drainUpdates(m);
    await join(t, 3, ["peers-delta"]);
    const deltaA = await nextUpdate(a, "RUNOS_VPN_PEERS_DELTA");
    const deltaB = await nextUpdate(b, "RUNOS_VPN_PEERS_DELTA");
    const full = await nextUpdate(legacy, "SET_VPN_PEERS");
    for (const delta of [deltaA, deltaB]) {
      assert.deepEqual(
        (delta.upsert as { pubKey: string }[]).map((p) => p.pubKey),
        [keys[3]],
      );
      assert.deepEqual(delta.remove, []);
    }
    assert.equal(full.fullState, true);
    assert.equal((full.peers as unknown[]).length, 3, "the full set names every other member");
  });
});
