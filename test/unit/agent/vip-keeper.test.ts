import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPaths } from "../../../src/agent/host/paths.js";
import { createVipStateStore } from "../../../src/agent/host/vip-state.js";
import { VipKeeper } from "../../../src/agent/vip/keeper.js";
import { VipSelfDrop } from "../../../src/agent/vip/self-drop.js";
import { chooseVipAddress, type VipSettings, vipFromOverlayAddress } from "../../../src/agent/vip/target.js";
import { silentLogger } from "../../../src/common/log.js";
import { FakeVipPort, FakeVipState } from "./fake-vip.js";

const vip = "172.24.3.254";

function keeperWith(port = new FakeVipPort(), state = new FakeVipState(), settings?: VipSettings) {
  const current = settings ?? { iface: "wg0", address: "" };
  return {
    port,
    state,
    keeper: new VipKeeper({ port, state, settings: () => current, log: silentLogger() }),
  };
}

test("session start: a holder answer with generation >= applied binds; anything else drops", async () => {
  const { port, state, keeper } = keeperWith();
  state.state = { generation: 7, bound: null };
  assert.deepEqual(await keeper.converge({ isHolder: true, generation: 7, vip }), {
    applied: true,
    holding: true,
  });
  assert.ok(port.holds("wg0", vip));
  // the control plane's record is older than what this node applied: not trusted to bind
  await keeper.converge({ isHolder: true, generation: 6, vip });
  assert.equal(port.holds("wg0", vip), false);
  assert.equal(state.state.generation, 7, "the higher generation is kept");
  await keeper.converge({ isHolder: true, generation: 8, vip });
  await keeper.converge({ isHolder: false, generation: 9, vip });
  assert.equal(port.holds("wg0", vip), false);
  assert.deepEqual(state.state, { generation: 9, bound: null });
});

test("an agent restart keeps the VIP where it was: already bound, nothing is touched", async () => {
  const { port, state, keeper } = keeperWith();
  await keeper.assign(3, vip);
  const before = port.changes.length;
  const restarted = new VipKeeper({
    port,
    state,
    settings: () => ({ iface: "wg0", address: "" }),
    log: silentLogger(),
  });
  await restarted.converge({ isHolder: true, generation: 3, vip });
  assert.equal(port.changes.length, before, "no unbind/bind flap");
  assert.ok(port.holds("wg0", vip));
});

test("self-drop: not after one failed heartbeat, after two, again on every further one; then re-ask", async () => {
  let rechecks = 0;
  const fresh = keeperWith();
  await fresh.keeper.assign(1, vip);
  const g = new VipSelfDrop({ keeper: fresh.keeper, log: silentLogger(), recheck: () => rechecks++ });
  g.failed();
  await settle();
  assert.ok(fresh.port.holds("wg0", vip), "one failure keeps the VIP");
  g.succeeded();
  g.failed();
  await settle();
  assert.ok(fresh.port.holds("wg0", vip), "a success in between resets the count");
  g.failed();
  await settle();
  assert.equal(fresh.port.holds("wg0", vip), false, "two consecutive failures drop it");
  assert.equal(fresh.state.state.generation, 1, "the generation is left alone");
  g.failed();
  await settle();
  assert.equal(rechecks, 0);
  g.succeeded();
  assert.equal(rechecks, 1, "contact is back: ask the control plane again");
  g.succeeded();
  assert.equal(rechecks, 1);
});

test("self-drop ignores a missing wg0 and never throws", async () => {
  const port = new FakeVipPort("");
  const { keeper } = keeperWith(port);
  assert.equal(await keeper.forceDrop("test"), false);
});

test("a layer-2 interface: the VIP override is bound there and the move announced by gratuitous ARP", async () => {
  const port = new FakeVipPort().addLink("eth0", "ether", ["198.18.0.11/24"]);
  const { state, keeper } = keeperWith(port, new FakeVipState(), { iface: "eth0", address: "198.18.0.100" });
  await keeper.assign(1, vip);
  await settle();
  assert.deepEqual(port.changes, ["bind eth0 198.18.0.100", "announce eth0 198.18.0.100"]);
  assert.deepEqual(state.state.bound, { iface: "eth0", address: "198.18.0.100" });
  await keeper.release(2, vip);
  assert.equal(port.holds("eth0", "198.18.0.100"), false);
});

test("a changed vip.interface moves the VIP at the next assign (old binding removed first)", async () => {
  const port = new FakeVipPort().addLink("eth0", "ether");
  let settings: VipSettings = { iface: "wg0", address: "" };
  const state = new FakeVipState();
  const keeper = new VipKeeper({ port, state, settings: () => settings, log: silentLogger() });
  await keeper.assign(1, vip);
  settings = { iface: "eth0", address: "198.18.0.100" };
  await keeper.converge({ isHolder: true, generation: 1, vip });
  assert.equal(port.holds("wg0", vip), false);
  assert.ok(port.holds("eth0", "198.18.0.100"));
});

test("operations are serialised: concurrent assign and release apply in arrival order", async () => {
  const { port, state, keeper } = keeperWith();
  const results = await Promise.all([keeper.assign(2, vip), keeper.release(3, vip), keeper.assign(2, vip)]);
  assert.deepEqual(
    results.map((r) => r.applied),
    [true, true, false],
  );
  assert.equal(port.holds("wg0", vip), false);
  assert.equal(state.state.generation, 3);
});

test("address choice: override, then the control plane's, then 172.24.<c>.254 from wg0", () => {
  assert.equal(chooseVipAddress({ iface: "eth0", address: "10.0.0.5" }, vip, []), "10.0.0.5");
  assert.equal(chooseVipAddress({ iface: "wg0", address: "" }, vip, []), vip);
  assert.equal(chooseVipAddress({ iface: "wg0", address: "" }, undefined, ["172.24.9.4/24"]), "172.24.9.254");
  assert.equal(vipFromOverlayAddress(["172.24.9.254/32", "10.1.1.1/8"]), undefined);
  assert.equal(vipFromOverlayAddress(["172.24.9.254/32", "172.24.9.3/24"]), "172.24.9.254");
});

test("the state file survives a restart, is written atomically with mode 0600, and a corrupt one is an error", async () => {
  const root = await mkdtemp(join(tmpdir(), "runos-vip-"));
  try {
    const store = createVipStateStore(createPaths(root));
    assert.deepEqual(await store.load(), { generation: 0, bound: null });
    await store.save({ generation: 12, bound: { iface: "wg0", address: vip } });
    const again = createVipStateStore(createPaths(root));
    const loaded = await again.load();
    assert.equal(loaded.generation, 12);
    assert.deepEqual(loaded.bound, { iface: "wg0", address: vip });
    assert.equal(store.path, join(root, "var/lib/runos/vip/state.json"));
    assert.equal((await stat(store.path)).mode & 0o777, 0o600);
    assert.match(await readFile(store.path, "utf8"), /"generation": 12/);
    await writeFile(store.path, "{not json");
    await assert.rejects(store.load(), /not a valid VIP state file/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
