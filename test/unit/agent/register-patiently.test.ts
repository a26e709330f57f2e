import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { registerPatiently } from "../../../src/agent/identity/register.js";
import { silentLogger } from "../../../src/common/log.js";
import { grpc, grpcError } from "../../../src/wire/grpc.js";

function busy(retryAfterMs: number): grpc.ServiceError {
  const err = grpcError(grpc.status.RESOURCE_EXHAUSTED, "busy");
  err.metadata.set("runos-retry-after-ms", String(retryAfterMs));
  return err;
}

describe("runos register when the control plane is busy", () => {
  test("waits the hint and asks again", async () => {
    let calls = 0;
    const started = Date.now();
    const answer = await registerPatiently(async () => {
      calls += 1;
      if (calls < 3) throw busy(50);
      return "registered";
    }, silentLogger());
    assert.equal(answer, "registered");
    assert.equal(calls, 3);
    assert.ok(Date.now() - started >= 90, "it waited for the hints");
  });

  test("any other refusal is not retried", async () => {
    let calls = 0;
    await assert.rejects(
      registerPatiently(async () => {
        calls += 1;
        throw grpcError(grpc.status.PERMISSION_DENIED, "bad token");
      }, silentLogger()),
      /bad token/,
    );
    assert.equal(calls, 1);
  });

  test("gives up after a bounded number of attempts", async () => {
    let calls = 0;
    await assert.rejects(
      registerPatiently(async () => {
        calls += 1;
        throw busy(1);
      }, silentLogger()),
      (err: grpc.ServiceError) => err.code === grpc.status.RESOURCE_EXHAUSTED,
    );
    assert.equal(calls, 10);
  });
});
