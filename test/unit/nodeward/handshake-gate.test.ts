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
  const offer = (...names: string[]) => names.map((n) => g.offer(new FakeConnection(n)));
  return { g, begun, finish, offer };
}

describe("HandshakeGate", () => {
  test("starts up to the bound; the rest wait and are served newest first", () => {
    const { g, begun, finish, offer } = gate(2, 10);
    assert.deepEqual(offer("a", "b", "c", "d", "e"), ["started", "started", "waiting", "waiting", "waiting"]);
    assert.deepEqual(begun, ["a", "b"]);
    finish("b");
    assert.deepEqual(begun, ["a", "b", "e"]);
    finish("a");
    finish("e");
    assert.deepEqual(begun, ["a", "b", "e", "d", "c"]);
    assert.deepEqual(g.counters(), { inFlight: 2, waiting: 0, started: 5, queued: 3, dropped: 0 });
  });

  test("a full line closes its oldest waiter to make room for the newcomer", () => {
    const { g, begun, finish } = gate(1, 2);
    const conns = ["a", "b", "c", "d"].map((n) => new FakeConnection(n));
    for (const c of conns) g.offer(c);
    assert.deepEqual(
      conns.map((c) => c.destroyed),
      [false, true, false, false],
    );
    finish("a");
    finish("d");
    assert.deepEqual(begun, ["a", "d", "c"]);
    assert.equal(g.counters().dropped, 1);
  });

  test("no line at all: a connection beyond the bound is closed", () => {
    const { g } = gate(1, 0);
    g.offer(new FakeConnection("a"));
    const b = new FakeConnection("b");
    assert.equal(g.offer(b), "dropped");
    assert.equal(b.destroyed, true);
  });

  test("a release counts once, however often it is called", () => {
    const { g, begun, finish, offer } = gate(1, 5);
    offer("a", "b", "c");
    finish("a");
    finish("a");
    assert.deepEqual(begun, ["a", "c"]);
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
    const c = new FakeConnection("c");
    assert.equal(g.offer(c), "waiting");
    assert.equal(c.destroyed, false, "b's place was free: nobody had to be dropped");
    finish("a");
    assert.deepEqual(begun, ["a", "c"]);
  });

  test("a waiting connection found closed when its turn comes is skipped", () => {
    const { g, begun, finish } = gate(1, 3);
    const conns = ["a", "b", "c"].map((n) => new FakeConnection(n));
    for (const c of conns) g.offer(c);
    (conns[2] as FakeConnection).destroyed = true;
    finish("a");
    assert.deepEqual(begun, ["a", "b"]);
  });

  test("connections that come and go while the line is busy do not pile up", () => {
    const { g, begun, finish } = gate(1, 4);
    g.offer(new FakeConnection("first"));
    for (let i = 0; i < 50_000; i++) {
      const c = new FakeConnection(`x${i}`);
      g.offer(c);
      c.destroy();
      g.withdraw(c);
    }
    g.offer(new FakeConnection("last"));
    assert.equal(g.counters().waiting, 1);
    finish("first");
    assert.deepEqual(begun, ["first", "last"]);
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
