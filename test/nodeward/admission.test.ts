import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { retryHint } from "../../src/agent/daemon/session.js";
import { Admission } from "../../src/nodeward/hub/admission.js";
import { grpc } from "../../src/wire/grpc.js";
import { AgentStream, enrol, l2Client, startNodeward, type TestNodeward } from "./helpers/nodeward.js";

test("the token bucket admits a burst, then the rate; the hint spreads over the backlog", () => {
  let now = 0;
  const admission = new Admission({
    ratePerSecond: 10,
    burst: 2,
    clock: { now: () => now } as never,
    random: () => 1,
  });
  assert.deepEqual([admission.tryAdmit(), admission.tryAdmit(), admission.tryAdmit()], [true, true, false]);
  now += 100; // one token back
  assert.equal(admission.tryAdmit(), true);
  for (let i = 0; i < 200; i += 1) admission.tryAdmit();
  const hint = admission.retryAfterMs();
  assert.ok(hint >= 5_000 && hint <= 60_000, `hint ${hint}`);
});

describe("admission control on the agent stream", () => {
  let t: TestNodeward;
  before(async () => {
    t = await startNodeward({ config: { admitPerSecond: 1 } });
  });
  after(async () => {
    await t.close();
  });

  test("a refused stream gets RESOURCE_EXHAUSTED with a retry hint the agent understands", async () => {
    const first = await enrol(t);
    const second = await enrol(t);
    const admitted = new AgentStream(l2Client(t, first));
    const refused = new AgentStream(l2Client(t, second));
    const status = (await refused.ended) as grpc.StatusObject & { metadata: grpc.Metadata };
    assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED);
    const hint = retryHint(status);
    assert.ok(hint >= 1_000, `retry hint ${hint}`);
    admitted.close();
  });
});
