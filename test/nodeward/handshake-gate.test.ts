import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import { enrol, l2Client, startNodeward, type TestNodeward } from "./helpers/nodeward.js";

const log = { type: "Test", severity: 3, message: "through the gate" };

/** A TCP connection that never starts TLS: it holds a handshake slot until it closes or times out. */
function silentConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.on("error", reject);
  });
}

function closedByPeer(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);
}

describe("handshake gate (real nodeward, real mTLS)", () => {
  const started: TestNodeward[] = [];
  const sockets: Socket[] = [];
  after(async () => {
    for (const s of sockets) s.destroy();
    for (const t of started) await t.close();
  });

  test("a call waits while the only handshake slot is taken, and proceeds once it frees", async () => {
    const t = await startNodeward({ config: { maxHandshakes: 1, maxWaitingConnections: 4 } });
    started.push(t);
    const node = await enrol(t);
    const squatter = await silentConnection(t.nw.ports().l2);
    sockets.push(squatter);
    await new Promise((r) => setTimeout(r, 100)); // accepted and holding the slot
    const call = l2Client(t, node).addNodelog(log, { deadlineMs: 10_000 });
    assert.equal(await settledWithin(call, 1_000), false, "the call must wait for the slot");
    squatter.destroy();
    await call;
    const logs = await t.nw.store.listNodelogs(node.nid, 10);
    assert.equal(logs.at(-1)?.message, "through the gate");
  });

  test("a full waiting line closes its oldest waiter to make room for a new connection", async () => {
    const t = await startNodeward({ config: { maxHandshakes: 1, maxWaitingConnections: 1 } });
    started.push(t);
    const holder = await silentConnection(t.nw.ports().l2);
    sockets.push(holder);
    await new Promise((r) => setTimeout(r, 100));
    const waiter = await silentConnection(t.nw.ports().l2);
    sockets.push(waiter);
    await new Promise((r) => setTimeout(r, 100));
    const newcomer = await silentConnection(t.nw.ports().l2);
    sockets.push(newcomer);
    assert.equal(await settledWithin(closedByPeer(waiter), 2_000), true, "the oldest waiter is closed");
    assert.equal(holder.destroyed || newcomer.destroyed, false, "the handshake and the newcomer stay");
  });

  test("a handshake that never finishes times out and frees its slot", async () => {
    const t = await startNodeward({ config: { maxHandshakes: 1, handshakeTimeoutMs: 500 } });
    started.push(t);
    const node = await enrol(t);
    const squatter = await silentConnection(t.nw.ports().l2);
    sockets.push(squatter);
    const dropped = closedByPeer(squatter);
    await new Promise((r) => setTimeout(r, 100));
    await l2Client(t, node).addNodelog(log, { deadlineMs: 10_000 });
    assert.equal(await settledWithin(dropped, 2_000), true, "nodeward closed the silent connection");
  });

  test("enrolment (L1Sec) goes through its own gate", async () => {
    const t = await startNodeward({ config: { maxHandshakes: 1 } });
    started.push(t);
    const squatter = await silentConnection(t.nw.ports().l1);
    sockets.push(squatter);
    await new Promise((r) => setTimeout(r, 100));
    const enrolment = enrol(t);
    assert.equal(await settledWithin(enrolment, 1_000), false, "registration waits for the slot");
    squatter.destroy();
    assert.ok((await enrolment).nid);
  });
});
