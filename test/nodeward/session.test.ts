import assert from "node:assert/strict";
import { test } from "node:test";
import { isRunosError } from "../../src/common/errors.js";
import { silentLogger } from "../../src/common/log.js";
import { Presence } from "../../src/nodeward/hub/presence.js";
import { Session } from "../../src/nodeward/hub/session.js";
import type { PresenceUpdate, Repository } from "../../src/nodeward/store/repository.js";
import type { Envelope } from "../../src/wire/envelope.js";
import { grpc } from "../../src/wire/grpc.js";
import { ManualClock } from "./helpers/manual-clock.js";

function fakeCall() {
  const call = {
    written: [] as Envelope[],
    writableLength: 0,
    ended: false,
    error: undefined as grpc.ServiceError | undefined,
    write(message: Envelope) {
      this.written.push(message);
      return true;
    },
    end() {
      this.ended = true;
    },
    emit(_event: "error", err: grpc.ServiceError) {
      this.error = err;
      return true;
    },
  };
  return call;
}

const identity = { nid: "n-test", serial: "01", aid: "a", cluster: "c" };

test("a session whose peer stops reading is cut off at the queue limit, and its requests fail", async () => {
  const call = fakeCall();
  let closedWith = "";
  const session = new Session(call, identity, {
    clock: new ManualClock(),
    log: silentLogger(),
    queueLimit: 3,
    observedAddr: "127.0.0.1:1",
    onClosed: (_s, reason) => {
      closedWith = reason;
    },
  });
  const waiting = session.request("GET_NODE_STATUS", {}, 10_000);
  call.writableLength = 3; // the transport buffer is full
  const refused = session.request("GET_NODE_STATUS", {}, 10_000);
  await assert.rejects(waiting, (err) => isRunosError(err) && err.code === "NA_STREAM_CLOSED");
  await assert.rejects(refused, (err) => isRunosError(err) && err.code === "NA_STREAM_CLOSED");
  assert.equal(closedWith, "send queue overflow");
  assert.equal(call.error?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(session.isOpen, false);
  assert.equal(session.send({ type: "X", jsonB64: "", tag: "" }), false);
});

test("an answer that is not base64 JSON rejects the request instead of crashing", async () => {
  const call = fakeCall();
  const session = new Session(call, identity, {
    clock: new ManualClock(),
    log: silentLogger(),
    queueLimit: 10,
    observedAddr: "x",
    onClosed: () => {},
  });
  const pending = session.request("GET_NODE_STATUS", {}, 10_000);
  const tag = call.written[0]?.tag ?? "";
  assert.equal(session.takeAnswer({ type: "NODE_STATUS", jsonB64: "@@@", tag }), true);
  await assert.rejects(pending, (err) => isRunosError(err) && err.code === "NA_INVALID_INPUT");
  assert.equal(
    session.takeAnswer({ type: "NODE_STATUS", jsonB64: "e30=", tag }),
    false,
    "late answers are ignored",
  );
});

test("presence writes once per tick, one entry per node, however many heartbeats arrived", async () => {
  const { batches, store } = recordingStore();
  const clock = new ManualClock();
  const presence = new Presence({ store, clock, log: silentLogger(), offlineAfterMs: 30_000, tickMs: 1_000 });
  presence.start();
  const status = readyStatus();
  for (const nid of ["n-a", "n-b", "n-c"]) presence.connected(nid, "addr");
  for (let i = 0; i < 50; i++) for (const nid of ["n-a", "n-b", "n-c"]) presence.heartbeat(nid, status);
  assert.equal(batches.length, 0, "nothing written per heartbeat");
  clock.advance(1_000);
  await presence.flush();
  assert.equal(batches.length, 1);
  assert.deepEqual(batches[0]?.map((u) => u.nid).sort(), ["n-a", "n-b", "n-c"]);
  clock.advance(1_000);
  await presence.flush();
  assert.equal(batches.length, 1, "no write when nothing changed");
  await presence.stop();
});

test("heartbeats that change nothing but the time are written at most every 30 s; a change goes out at the next tick", async () => {
  const { batches, store } = recordingStore();
  const clock = new ManualClock();
  const presence = new Presence({ store, clock, log: silentLogger(), offlineAfterMs: 60_000, tickMs: 1_000 });
  presence.start();
  const status = { ...readyStatus(), nodeIp: "10.0.0.5" };
  presence.connected("n-a", "addr");
  presence.heartbeat("n-a", status);
  clock.advance(1_000);
  await presence.flush();
  assert.equal(batches.length, 1);
  for (let second = 0; second < 25; second += 5) {
    presence.heartbeat("n-a", status); // every 5 s, same content
    clock.advance(5_000);
    await presence.flush();
  }
  assert.equal(batches.length, 1, "no write for liveness alone within 30 s");
  presence.heartbeat("n-a", { ...status, k8sStatus: "not_ready" });
  clock.advance(1_000);
  await presence.flush();
  assert.equal(batches.length, 2, "a changed status is written at the next tick");
  clock.advance(31_000);
  await presence.flush(); // let the ticks' shared write settle
  presence.heartbeat("n-a", { ...status, k8sStatus: "not_ready" });
  clock.advance(1_000);
  await presence.flush();
  assert.equal(batches.length, 3, "liveness is refreshed after 30 s");
  await presence.stop();
});

/** A store that only records presence batches. */
function recordingStore() {
  const batches: PresenceUpdate[][] = [];
  const store = {
    recordPresence: async (b: readonly PresenceUpdate[]) => void batches.push([...b]),
  } as unknown as Repository;
  return { batches, store };
}

function readyStatus() {
  return {
    version: "1",
    isCp: false,
    isWorker: true,
    k8sStatus: "ready",
    externalIp: null,
    nodeIp: null as string | null,
    vpnIp: null,
    hostname: null,
  };
}
