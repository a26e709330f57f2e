import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Envelope, newTag } from "../../src/wire/envelope.js";
import {
  AgentStream,
  b64,
  type EnrolledNode,
  enrol,
  eventually,
  l2Client,
  startNodeward,
  type TestNodeward,
  unb64,
} from "./helpers/nodeward.js";

const pushType = "RUNOS_SET_CONTROL_PLANE_ENDPOINTS";

describe("control-plane endpoints: GetControlPlaneNodes and pushes", () => {
  let t: TestNodeward;
  let nodes: EnrolledNode[];
  const ip = new Map<string, string>();
  before(async () => {
    t = await startNodeward({ config: { kubeApiPort: 16443 } });
    nodes = await Promise.all([1, 2, 3].map(() => enrol(t, { cluster: "cpc" })));
    for (const n of nodes) ip.set(n.nid, (await t.nw.store.getNode(n.nid))?.overlayIp ?? "");
  });
  after(() => t.close());

  const node = (i: number) => nodes[i] as EnrolledNode;
  const endpoint = (i: number) => `https://${ip.get(node(i).nid)}:16443`;
  const setRole = async (i: number, role: "control-plane" | "worker") => {
    const res = await t.nw.api.inject({
      method: "PUT",
      url: `/api/nodes/${node(i).nid}/role`,
      headers: { authorization: `Bearer ${t.nw.adminToken}` },
      payload: { role },
    });
    assert.equal(res.statusCode, 200, res.body);
  };

  /** A stream that said hello with these capabilities and answers every push as an agent would. */
  async function agent(i: number, capabilities: string[]) {
    const stream = new AgentStream(l2Client(t, node(i)));
    const pushes: string[][] = [];
    let seen = 0;
    stream.call.on("data", (m: Envelope) => {
      if (m.type !== pushType) return;
      const { endpoints } = unb64(m.jsonB64) as { endpoints: string[] };
      pushes.push(endpoints);
      const answer = { endpoints, changed: true, action: "reloaded", skipped: [] };
      stream.send({ type: "CONTROL_PLANE_ENDPOINTS_APPLIED", jsonB64: b64(answer), tag: m.tag });
    });
    await eventually(() => t.nw.hub.get(node(i).nid) !== undefined);
    const tag = newTag();
    stream.send({ type: "RUNOS_AGENT_HELLO", jsonB64: b64({ version: "2.0.0", capabilities }), tag });
    await stream.next((m) => m.tag === tag);
    return {
      stream,
      /** The next pushed list, or undefined if none arrives within `ms`. */
      async push(ms = 2_000): Promise<string[] | undefined> {
        await eventually(() => pushes.length > seen, ms).catch(() => {});
        return pushes.length > seen ? pushes[seen++] : undefined;
      },
    };
  }

  test("role changes and deletion are pushed to agents that announce cp-endpoints-push, once per change", async () => {
    const pusher = await agent(1, ["hello", "cp-endpoints-push"]);
    const original = await agent(2, ["hello"]);
    assert.equal(await pusher.push(500), undefined, "no control-plane node yet: nothing is pushed");

    await setRole(0, "control-plane");
    assert.deepEqual(await pusher.push(), [endpoint(0)]);
    await setRole(2, "control-plane");
    assert.deepEqual(await pusher.push(), [endpoint(0), endpoint(2)].sort());
    await setRole(2, "control-plane");
    assert.equal(await pusher.push(500), undefined, "an unchanged list is not pushed again");

    // An agent without the capability polls instead: the stream answer is the list of strings.
    const tag = newTag();
    original.stream.send({ type: "GetControlPlaneNodes", jsonB64: "", tag });
    const polled = await original.stream.next((m) => m.tag === tag);
    assert.equal(polled.type, "GetControlPlaneNodesResponse");
    assert.deepEqual(unb64(polled.jsonB64), [endpoint(0), endpoint(2)].sort());
    assert.equal(
      await original.stream.next((m) => m.type === pushType, 300).catch(() => undefined),
      undefined,
    );

    // The unary RPC answers with structured nodes.
    const unary = await l2Client(t, node(2)).getControlPlaneNodes({});
    assert.deepEqual(
      unary.ControlPlaneNodes.map((n) => [n.vpnIp, n.kubeEndpoint]),
      [0, 2].map((i) => [ip.get(node(i).nid), endpoint(i)]).sort(),
    );

    await t.nw.deleteNode(node(0).nid);
    assert.deepEqual(await pusher.push(), [endpoint(2)]);
    pusher.stream.close();
    original.stream.close();
  });

  test("a reconnecting agent gets the list at once; a cluster without control planes gets nothing", async () => {
    const again = await agent(1, ["hello", "cp-endpoints-push"]);
    assert.deepEqual(await again.push(), [endpoint(2)], "re-sent on hello although unchanged");
    await setRole(2, "worker");
    assert.equal(
      await again.push(500),
      undefined,
      "an empty list is never pushed (agents keep their backends)",
    );
    again.stream.close();
  });
});
