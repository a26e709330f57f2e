import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type GatedConnection, HandshakeGate } from "../../../src/nodeward/transport/handshake-gate.js";

class FakeConnection implements GatedConnection {
  destroyed = false;
  constructor(readonly name: string) {}
  destroy(): void {
    this.destroyed = true;
  }
}

/** A gate whose handshakes end only when the test releases them. */
function gate(maxInFlight: number, maxWaiting: number) {
  const releases = new Map<string, () => void>();
  const begun: string[] = [];
  const g = new HandshakeGate<FakeConnection>({ maxInFlight, maxWaiting }, (c, release) => {
    begun.push(c.name);
    releases.set(c.name, release);
  });
  const finish = (name: string) => releases.get(name)?.();
  return { g, begun, finish };
}

describe("HandshakeGate", () => {
  test("starts up to the bound, queues the rest in arrival order, drops beyond the line", () => {
    const { g, begun, finish } = gate(2, 2);
    const [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map((n) => new FakeConnection(n)) as FakeConnection[];
    assert.deepEqual(
      [a, b, c, d, e].map((x) => g.offer(x as FakeConnection)),
      ["started", "started", "waiting", "waiting", "dropped"],
    );
    assert.equal(e?.destroyed, true);
    assert.deepEqual(begun, ["a", "b"]);
    finish("b");
    assert.deepEqual(begun, ["a", "b", "c"]);
    assert.deepEqual(g.counters(), { inFlight: 2, waiting: 1, started: 3, queued: 2, dropped: 1 });
  });

  test("a release counts once, however often it is called", () => {
    const { g, begun, finish } = gate(1, 5);
    for (const n of ["a", "b", "c"]) g.offer(new FakeConnection(n));
    finish("a");
    finish("a");
    assert.deepEqual(begun, ["a", "b"]);
    assert.equal(g.counters().inFlight, 1);
  });

  test("a connection that closed while waiting gives up its place and is never started", () => {
    const { g, begun, finish } = gate(1, 1);
    const a = new FakeConnection("a");
    const b = new FakeConnection("b");
    g.offer(a);
    g.offer(b);
    b.destroy();
    g.withdraw(b);
    assert.equal(g.offer(new FakeConnection("c")), "waiting"); // b's place is free again
    finish("a");
    assert.deepEqual(begun, ["a", "c"]);
  });

  test("a waiting connection found closed when its turn comes is skipped", () => {
    const { g, begun, finish } = gate(1, 3);
    const conns = ["a", "b", "c"].map((n) => new FakeConnection(n));
    for (const c of conns) g.offer(c);
    (conns[1] as FakeConnection).destroyed = true;
    finish("a");
    assert.deepEqual(begun, ["a", "c"]);
  });

  test("dropWaiting closes the line but leaves handshakes in progress alone", () => {
    const { g } = gate(1, 3);
    const conns = ["a", "b", "c"].map((n) => new FakeConnection(n));
    for (const c of conns) g.offer(c);
    g.dropWaiting();
    assert.deepEqual(
      conns.map((c) => c.destroyed),
      [false, true, true],
    );
    assert.equal(g.counters().waiting, 0);
  });
});
