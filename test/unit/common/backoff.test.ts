import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff } from "../../../src/common/backoff.js";

test("full jitter: delays are uniform under a doubling ceiling capped at max", () => {
  const backoff = new Backoff({ baseMs: 1_000, maxMs: 60_000, random: () => 0.999 });
  const delays = Array.from({ length: 9 }, () => backoff.next());
  assert.deepEqual(delays, [999, 1998, 3996, 7992, 15984, 31968, 59940, 59940, 59940]);
  backoff.reset();
  assert.equal(backoff.next(), 999);
});

test("full jitter can pick small delays, but never a busy loop", () => {
  const backoff = new Backoff({ baseMs: 1_000, maxMs: 60_000, random: () => 0 });
  assert.equal(backoff.next(), 100);
});
