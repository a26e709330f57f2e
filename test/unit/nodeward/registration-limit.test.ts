import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RegistrationLimit } from "../../../src/nodeward/registration/registration-limit.js";
import { grpc } from "../../../src/wire/grpc.js";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("RegistrationLimit", () => {
  test("runs at most maxInFlight at once, the rest in arrival order", async () => {
    const limit = new RegistrationLimit({ maxInFlight: 2, maxWaiting: 10 });
    const gates = Array.from({ length: 4 }, () => deferred());
    const order: number[] = [];
    let running = 0;
    let peak = 0;
    const all = gates.map((g, i) =>
      limit.run(async () => {
        order.push(i);
        running += 1;
        peak = Math.max(peak, running);
        await g.promise;
        running -= 1;
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [0, 1]);
    gates[1]?.resolve();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [0, 1, 2]);
    for (const g of gates) g.resolve();
    await Promise.all(all);
    assert.deepEqual(order, [0, 1, 2, 3]);
    assert.equal(peak, 2);
  });

  test("a full line is refused with RESOURCE_EXHAUSTED and a retry hint of 1-5 s", async () => {
    const limit = new RegistrationLimit({ maxInFlight: 1, maxWaiting: 1, random: () => 0.5 });
    const hold = deferred();
    const first = limit.run(() => hold.promise);
    const second = limit.run(async () => "second");
    const err = await limit
      .run(async () => "third")
      .then(
        () => assert.fail("expected a refusal"),
        (e: grpc.ServiceError) => e,
      );
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.deepEqual(err.metadata.get("runos-retry-after-ms"), ["3000"]);
    hold.resolve();
    await first;
    assert.equal(await second, "second");
  });

  test("a failing registration frees its slot", async () => {
    const limit = new RegistrationLimit({ maxInFlight: 1, maxWaiting: 0 });
    await assert.rejects(limit.run(() => Promise.reject(new Error("bad token"))));
    assert.equal(await limit.run(async () => 7), 7);
  });
});
