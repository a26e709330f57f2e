import assert from "node:assert/strict";
import { test } from "node:test";
import { vipAssign } from "../../../src/agent/instructions/vip-assign.js";
import { vipRelease } from "../../../src/agent/instructions/vip-release.js";
import { VipKeeper } from "../../../src/agent/vip/keeper.js";
import type { VipSettings } from "../../../src/agent/vip/target.js";
import { silentLogger } from "../../../src/common/log.js";
import { createFakeHost } from "./fake-host.js";
import { FakeVipPort, FakeVipState } from "./fake-vip.js";

const vip = "172.24.3.254";

function setup(settings: VipSettings = { iface: "wg0", address: "" }) {
  const port = new FakeVipPort();
  const state = new FakeVipState();
  const keeper = new VipKeeper({ port, state, settings: () => settings, log: silentLogger() });
  const ctx = {
    host: createFakeHost(),
    tag: "t",
    log: silentLogger(),
    signal: new AbortController().signal,
    node: () => ({ nid: "n1", ip: "198.18.0.11" }),
    vip: keeper,
  };
  return { port, state, keeper, ctx };
}

test("VIP_ASSIGN binds the VIP on wg0 as a /32, persists the generation and answers ok", async () => {
  const { port, state, ctx } = setup();
  const answer = await vipAssign.handle({ generation: 5, vip }, ctx);
  assert.deepEqual(answer, { type: "VIP_ASSIGN_RESPONSE", payload: { ok: true } });
  assert.ok(port.holds("wg0", vip));
  assert.deepEqual(port.changes, [`bind wg0 ${vip}`], "wg0 is layer 3: no gratuitous ARP");
  assert.equal(state.state.generation, 5);
  assert.deepEqual(state.state.bound, { iface: "wg0", address: vip });
});

test("a stale VIP_ASSIGN (generation <= last applied) is answered ok:false and binds nothing", async () => {
  const { port, state, ctx } = setup();
  state.state = { generation: 9, bound: null };
  for (const generation of [9, 3, 0]) {
    const answer = await vipAssign.handle({ generation, vip }, ctx);
    assert.equal(answer?.type, "VIP_ASSIGN_RESPONSE");
    const payload = answer?.payload as { ok: boolean; message: string };
    assert.equal(payload.ok, false, `generation ${generation} must never be acked ok`);
    assert.match(payload.message, new RegExp(`generation ${generation} is not newer than 9`));
  }
  assert.deepEqual(port.changes, []);
  assert.equal(state.saves, 0);
});

test("a failed VIP_ASSIGN gets no answer at all and does not advance the generation", async () => {
  const { port, state, ctx } = setup();
  port.failBind = new Error("RTNETLINK answers: Operation not permitted");
  assert.equal(await vipAssign.handle({ generation: 4, vip }, ctx), null);
  assert.equal(state.state.generation, 0);
  // and without wg0 (not installed yet) as well
  const noWg = setup();
  noWg.port.links.delete("wg0");
  assert.equal(await vipAssign.handle({ generation: 4 }, noWg.ctx), null);
  assert.equal(noWg.state.state.generation, 0);
});

test("VIP_RELEASE is always answered: ok, stale, or the failure's message", async () => {
  const { port, state, ctx } = setup();
  await vipAssign.handle({ generation: 2, vip }, ctx);
  assert.deepEqual(await vipRelease.handle({ generation: 3, vip }, ctx), {
    type: "VIP_RELEASE_RESPONSE",
    payload: { ok: true },
  });
  assert.equal(port.holds("wg0", vip), false);
  assert.deepEqual(state.state, { generation: 3, bound: null });

  const stale = await vipRelease.handle({ generation: 3, vip }, ctx);
  const stalePayload = stale?.payload as { ok: boolean; message: string } | undefined;
  assert.equal(stalePayload?.ok, false);
  assert.match(stalePayload?.message ?? "", /stale VIP release/);

  await vipAssign.handle({ generation: 4, vip }, ctx);
  port.failUnbind = new Error("ip exited with 2: RTNETLINK answers: Operation not permitted");
  const failed = await vipRelease.handle({ generation: 5, vip }, ctx);
  assert.deepEqual(failed, {
    type: "VIP_RELEASE_RESPONSE",
    payload: { ok: false, message: "ip exited with 2: RTNETLINK answers: Operation not permitted" },
  });
  assert.equal(state.state.generation, 4, "a failed release does not advance the generation");
});

test("a release without wg0 (nothing to drop) is ok", async () => {
  const { port, ctx } = setup();
  port.links.delete("wg0");
  assert.deepEqual((await vipRelease.handle({ generation: 1 }, ctx))?.payload, { ok: true });
});

test("without a vip in the payload the address comes from wg0 (an original control plane)", async () => {
  const { port, ctx } = setup();
  await vipAssign.handle({ generation: 1 }, ctx);
  assert.ok(port.holds("wg0", "172.24.3.254"));
});

test("the handlers refuse clearly when the keeper is not wired", async () => {
  const { ctx } = setup();
  await assert.rejects(vipAssign.handle({ generation: 1 }, { ...ctx, vip: undefined }), /not wired/);
});
