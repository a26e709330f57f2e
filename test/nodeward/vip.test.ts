// The VIP election inside a real nodeward over real gRPC streams (the agents are raw streams).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Envelope } from "../../src/wire/envelope.js";
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

describe("control-plane VIP election", () => {
  let t: TestNodeward;
  before(async () => {
    t = await startNodeward({ config: { vipFenceMs: 60_000 } });
  });
  after(() => t.close());

  async function connect() {
    const node = await enrol(t);
    const stream = new AgentStream(l2Client(t, node));
    await eventually(() => t.nw.hub.get(node.nid) !== undefined);
    return { nid: node.nid, stream };
  }

  async function setRole(nid: string, role: string) {
    const reply = await t.nw.api.inject({
      method: "PUT",
      url: `/api/nodes/${nid}/role`,
      headers: { authorization: `Bearer ${t.nw.adminToken}` },
      payload: { role },
    });
    assert.equal(reply.statusCode, 200, reply.body);
  }

  /** Waits for the next instruction of that type and answers it ok. */
  async function answerOk(stream: AgentStream, type: string): Promise<{ generation: number; vip?: string }> {
    const instruction = await stream.next((m) => m.type === type);
    stream.send({ type: `${type}_RESPONSE`, jsonB64: b64({ ok: true }), tag: instruction.tag } as Envelope);
    return unb64(instruction.jsonB64) as { generation: number; vip?: string };
  }

  async function holderAnswer(stream: AgentStream) {
    const tag = `vip-${Math.random()}`;
    stream.send({ type: "AmIVIPHolder", jsonB64: "e30=", tag });
    return unb64((await stream.next((m) => m.tag === tag)).jsonB64);
  }

  test("set-role elects the node; a demotion releases it before the next node is assigned", async () => {
    const a = await connect();
    const b = await connect();
    await setRole(a.nid, "control-plane");
    assert.deepEqual(await answerOk(a.stream, "VIP_ASSIGN"), { generation: 1, vip: "172.24.1.254" });
    await eventually(async () => (await t.nw.store.getCluster("acct1", "c1"))?.vipHolder === a.nid);
    assert.deepEqual(await holderAnswer(a.stream), { isHolder: true, generation: 1, vip: "172.24.1.254" });

    await setRole(b.nid, "control-plane"); // a healthy holder keeps it
    await setRole(a.nid, "worker");
    const released = await answerOk(a.stream, "VIP_RELEASE");
    const assigned = await answerOk(b.stream, "VIP_ASSIGN");
    assert.deepEqual([released.generation, assigned.generation], [2, 3]);
    await eventually(async () => (await t.nw.store.getCluster("acct1", "c1"))?.vipHolder === b.nid);
    assert.deepEqual(await holderAnswer(a.stream), { isHolder: false, generation: 3, vip: "172.24.1.254" });
    a.stream.close();
    b.stream.close();
  });
});
