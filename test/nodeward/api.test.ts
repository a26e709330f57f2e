import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { certificateHash } from "../../src/common/pem.js";
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

describe("HTTP API", () => {
  let t: TestNodeward;
  let auth: { authorization: string };
  before(async () => {
    t = await startNodeward({ config: { hosts: ["nodeward.example"] } });
    auth = { authorization: `Bearer ${t.nw.adminToken}` };
  });
  after(() => t.close());

  test("/healthz is open; /api needs the admin bearer token", async () => {
    assert.equal((await t.nw.api.inject({ url: "/healthz" })).statusCode, 200);
    const none = await t.nw.api.inject({ url: "/api/nodes" });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().error.code, "NA_UNAUTHORIZED");
    const wrong = await t.nw.api.inject({ url: "/api/nodes", headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.statusCode, 401);
    const post = await t.nw.api.inject({
      method: "POST",
      url: "/api/tokens",
      payload: { aid: "a", cluster: "c" },
    });
    assert.equal(post.statusCode, 401);
    assert.equal((await t.nw.api.inject({ url: "/api/nodes", headers: auth })).statusCode, 200);
  });

  test("GET /api/status: sessions, handshake gates, event-loop delay and memory", async () => {
    const node = await enrol(t);
    const stream = new AgentStream(l2Client(t, node));
    await eventually(() => t.nw.hub.get(node.nid) !== undefined);
    const res = await t.nw.api.inject({ url: "/api/status", headers: auth });
    assert.equal(res.statusCode, 200);
    const status = res.json();
    assert.ok(status.sessions >= 1);
    assert.ok(status.handshakes.l2.started >= 1, "the agent's connection went through the L2 gate");
    assert.ok(status.handshakes.l1.started >= 1, "the enrolment went through the L1 gate");
    assert.equal(status.handshakes.l2.inFlight, 0);
    assert.ok(status.eventLoopDelayMs.p99 >= 0 && status.eventLoopDelayMs.sinceMs >= 0);
    assert.ok(status.memoryMiB.rss > 0);
    assert.equal((await t.nw.api.inject({ url: "/api/status" })).statusCode, 401);
    stream.close();
  });

  test("POST /api/tokens returns the token, its pin and a ready install command", async () => {
    const res = await t.nw.api.inject({
      method: "POST",
      url: "/api/tokens",
      headers: auth,
      payload: { aid: "acct1", cluster: "prod", ttlSeconds: 600, uses: 2 },
    });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), [
      "aid",
      "caHash",
      "cluster",
      "expiresAt",
      "installCommand",
      "token",
      "uses",
    ]);
    assert.equal(body.aid, "acct1");
    assert.equal(body.cluster, "prod");
    assert.equal(body.uses, 2);
    assert.equal(body.caHash, certificateHash(t.nw.caCertPem));
    assert.match(body.caHash, /^sha256:[0-9a-f]{64}$/);
    assert.ok(Math.abs(Date.parse(body.expiresAt) - Date.now() - 600_000) < 5_000);
    const { l1, l2 } = t.nw.ports();
    assert.equal(
      body.installCommand,
      `runos register --server nodeward.example --aid acct1 --token ${body.token} --ca-hash ${body.caHash} --l1-port ${l1} --l2-port ${l2}`,
    );
  });

  test("token bodies are validated", async () => {
    const res = await t.nw.api.inject({
      method: "POST",
      url: "/api/tokens",
      headers: auth,
      payload: { aid: "bad aid;rm", cluster: "" },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, "NA_INVALID_INPUT");
    const notJson = await t.nw.api.inject({
      method: "POST",
      url: "/api/tokens",
      headers: { ...auth, "content-type": "application/json" },
      payload: "{",
    });
    assert.equal(notJson.statusCode, 400);
    assert.ok(notJson.json().error.message);
  });

  test("nodes: list, show, logs, 404", async () => {
    const node = await enrol(t, { aid: "acct1", cluster: "prod" });
    await l2Client(t, node).addNodelog({
      type: "Test",
      severity: 2,
      message: "disk is slow",
      code: "NA_DISK_FULL",
    });
    const list = (await t.nw.api.inject({ url: "/api/nodes", headers: auth })).json();
    const row = list.nodes.find((n: { nid: string }) => n.nid === node.nid);
    assert.equal(row.state, "offline");
    assert.equal(row.cluster, "prod");
    assert.equal(row.hostname, "host-a");
    const show = (await t.nw.api.inject({ url: `/api/nodes/${node.nid}`, headers: auth })).json();
    assert.equal(show.certificates.length, 1);
    const logs = (await t.nw.api.inject({ url: `/api/nodes/${node.nid}/logs`, headers: auth })).json();
    assert.equal(logs.logs.at(-1).message, "disk is slow");
    assert.equal(logs.logs.at(-1).code, "NA_DISK_FULL");
    const missing = await t.nw.api.inject({ url: "/api/nodes/n-doesnotexist", headers: auth });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, "NA_NOT_FOUND");
  });

  test("instructions: type and payload validated (400), unknown node 404, offline 409", async () => {
    const node = await enrol(t);
    const post = (nid: string, payload: unknown) =>
      t.nw.api.inject({
        method: "POST",
        url: `/api/nodes/${nid}/instructions`,
        headers: auth,
        payload: payload as object,
      });
    const unknownType = await post(node.nid, { type: "MAKE_COFFEE" });
    assert.equal(unknownType.statusCode, 400);
    assert.match(unknownType.json().error.message, /unknown instruction type "MAKE_COFFEE"/);
    const badPayload = await post(node.nid, { type: "VIP_ASSIGN", payload: { generation: "seven" } });
    assert.equal(badPayload.statusCode, 400);
    assert.match(badPayload.json().error.message, /generation/);
    assert.equal((await post("n-nosuchnode", { type: "GET_NODE_STATUS" })).statusCode, 404);
    const offline = await post(node.nid, { type: "GET_NODE_STATUS" });
    assert.equal(offline.statusCode, 409);
  });

  test("instructions reach the agent and its answer comes back; timeouts are 504", async () => {
    const node = await enrol(t);
    const stream = new AgentStream(l2Client(t, node));
    await eventually(() => t.nw.hub.get(node.nid) !== undefined);
    const pending = t.nw.api.inject({
      method: "POST",
      url: `/api/nodes/${node.nid}/instructions`,
      headers: auth,
      payload: { type: "RUN_KUBECTL_COMMAND", payload: ["get", "nodes"] },
    });
    const instruction = await stream.next((m) => m.type === "RUN_KUBECTL_COMMAND");
    assert.deepEqual(unb64(instruction.jsonB64), ["get", "nodes"]);
    stream.send({
      type: "KUBECTL_COMMAND_RESPONSE",
      jsonB64: b64({ response: "node-a Ready" }),
      tag: instruction.tag,
    });
    const res = await pending;
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { type: "KUBECTL_COMMAND_RESPONSE", payload: { response: "node-a Ready" } });

    const slow = await t.nw.api.inject({
      method: "POST",
      url: `/api/nodes/${node.nid}/instructions`,
      headers: auth,
      payload: { type: "GET_NODE_STATUS", timeoutSeconds: 0.2 },
    });
    assert.equal(slow.statusCode, 504);
    assert.equal(slow.json().error.code, "NA_TIMEOUT");
    stream.close();
  });

  test("DELETE /api/nodes/:nid marks it deleted and revokes its certificates", async () => {
    const node = await enrol(t);
    const res = await t.nw.api.inject({ method: "DELETE", url: `/api/nodes/${node.nid}`, headers: auth });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { nid: node.nid, revoked: 1, etcdMemberRemoved: false, deleted: true });
    const show = (await t.nw.api.inject({ url: `/api/nodes/${node.nid}`, headers: auth })).json();
    assert.equal(show.state, "deleted");
    assert.ok(show.certificates.every((c: { revokedAt: string | null }) => c.revokedAt !== null));
    const list = (await t.nw.api.inject({ url: "/api/nodes", headers: auth })).json();
    assert.ok(!list.nodes.some((n: { nid: string }) => n.nid === node.nid));
  });
});
