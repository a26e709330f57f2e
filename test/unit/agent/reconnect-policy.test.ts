import assert from "node:assert/strict";
import { test } from "node:test";
import { type ConnectionEnd, ReconnectPolicy } from "../../../src/agent/daemon/reconnect-policy.js";

const dropped = (over: Partial<ConnectionEnd> = {}): ConnectionEnd => ({
  reason: "stream_error",
  livedMs: 5_000,
  retryAfterMs: 0,
  ...over,
});

test("full jitter under a ceiling that doubles from 1 s to 60 s, dial failures and dropped streams alike", () => {
  const policy = new ReconnectPolicy({ random: () => 0.999 });
  const delays = [
    policy.delayAfter({ reason: "dial_failed", livedMs: 20_000, retryAfterMs: 0 }),
    policy.delayAfter(dropped()),
    policy.delayAfter(dropped({ reason: "stream_ended" })),
    policy.delayAfter(dropped({ reason: "heartbeat_stopped" })),
    ...Array.from({ length: 5 }, () => policy.delayAfter(dropped())),
  ];
  assert.deepEqual(delays, [999, 1998, 3996, 7992, 15984, 31968, 59940, 59940, 59940]);
});

test("the delay is uniform in [0, ceiling), but never a busy loop", () => {
  const policy = new ReconnectPolicy({ random: () => 0 });
  assert.equal(policy.delayAfter(dropped()), 100);
  const half = new ReconnectPolicy({ random: () => 0.5 });
  assert.equal(half.delayAfter(dropped()), 500);
  assert.equal(half.delayAfter(dropped()), 1_000);
});

test("a connection that lived 120 s was healthy: the backoff starts over", () => {
  const policy = new ReconnectPolicy({ random: () => 0.999 });
  for (let i = 0; i < 6; i++) policy.delayAfter(dropped());
  assert.equal(policy.delayAfter(dropped({ livedMs: 119_999 })), 59_940);
  assert.equal(policy.delayAfter(dropped({ livedMs: 120_000 })), 999);
  assert.equal(policy.delayAfter(dropped()), 1_998);
});

test("the control plane's retry hint wins when it asks for more patience", () => {
  const policy = new ReconnectPolicy({ random: () => 0.999 });
  assert.equal(policy.delayAfter(dropped({ retryAfterMs: 7_500 })), 7_500);
  // the refusal still counted as an attempt: the ceiling doubled, and now the backoff is longer
  assert.equal(policy.delayAfter(dropped({ retryAfterMs: 1_200 })), 1_998);
});

test("a certificate recycle redials at once and leaves the backoff where it was", () => {
  const policy = new ReconnectPolicy({ random: () => 0.999 });
  assert.equal(policy.delayAfter(dropped()), 999);
  assert.equal(policy.delayAfter({ reason: "recycle", livedMs: 500_000, retryAfterMs: 9_000 }), 0);
  assert.equal(policy.delayAfter(dropped()), 1_998);
});

test("options: other bounds and a shorter healthy time", () => {
  const policy = new ReconnectPolicy({ baseMs: 200, maxMs: 800, healthyAfterMs: 1_000, random: () => 0.999 });
  const delays = Array.from({ length: 4 }, () => policy.delayAfter(dropped({ livedMs: 10 })));
  assert.deepEqual(delays, [199, 399, 799, 799]);
  assert.equal(policy.delayAfter(dropped({ livedMs: 1_000 })), 199);
});
