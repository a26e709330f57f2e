import assert from "node:assert/strict";
import { test } from "node:test";
import type { Session } from "../../../src/agent/daemon/session.js";
import { setControlPlaneEndpoints } from "../../../src/agent/instructions/set-control-plane-endpoints.js";
import { applyControlPlaneEndpoints } from "../../../src/agent/kubeproxy/apply.js";
import {
  controlPlanePushCapability,
  startControlPlaneMonitor,
} from "../../../src/agent/kubeproxy/monitor.js";
import { startHaproxyReconciler } from "../../../src/agent/kubeproxy/reconciler.js";
import type { Nodelog } from "../../../src/agent/link/nodelog.js";
import { silentLogger } from "../../../src/common/log.js";
import { type Envelope, encodeJsonB64 } from "../../../src/wire/envelope.js";
import { SetControlPlaneEndpoints } from "../../../src/wire/instructions/set-control-plane-endpoints.js";
import { ManualClock } from "../../nodeward/helpers/manual-clock.js";
import { createFakeHost } from "./fake-host.js";
import { FakeHaproxy } from "./haproxy-fake.js";

const log = silentLogger();
const three = ["https://172.24.1.4:6443", "https://172.24.1.2:6443", "https://172.24.1.3:6443"];
const flush = async () => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

test("endpoints that do not parse are skipped and named; the rest is applied and stored as applied", async () => {
  const haproxy = new FakeHaproxy();
  const result = await applyControlPlaneEndpoints(
    haproxy,
    [...three, "fd00::1:6443", "http://172.24.1.9:6443"],
    { source: "push" },
    log,
  );
  assert.deepEqual(result.endpoints, ["172.24.1.2:6443", "172.24.1.3:6443", "172.24.1.4:6443"]);
  assert.deepEqual(
    result.skipped.map((s) => s.endpoint),
    ["fd00::1:6443", "http://172.24.1.9:6443"],
  );
  assert.equal(result.action, "started");
  assert.equal(haproxy.desired?.applied, true);
  assert.equal(haproxy.desired?.source, "push");
  assert.deepEqual(haproxy.desired?.endpoints, result.endpoints);
});

test("the list is a set: another order or duplicates change nothing; a new member reloads once", async () => {
  const haproxy = new FakeHaproxy();
  await applyControlPlaneEndpoints(haproxy, three, { source: "push" }, log);
  const again = await applyControlPlaneEndpoints(
    haproxy,
    [...three].reverse().concat(three[0] ?? ""),
    { source: "poll" },
    log,
  );
  assert.deepEqual([again.changed, again.action], [false, "unchanged"]);
  assert.equal(haproxy.desired?.source, "push", "a no-op does not rewrite the stored list");
  const grown = await applyControlPlaneEndpoints(
    haproxy,
    [...three, "[fd00::5]:6443"],
    { source: "push" },
    log,
  );
  assert.deepEqual([grown.changed, grown.action], [true, "reloaded"]);
  haproxy.expectReloads(1);
});

test("an empty list (or one with nothing valid) is refused and HAProxy keeps its backends", async () => {
  const haproxy = new FakeHaproxy();
  await applyControlPlaneEndpoints(haproxy, three, { source: "push" }, log);
  for (const list of [[], ["not an endpoint"]]) {
    await assert.rejects(
      applyControlPlaneEndpoints(haproxy, list, { source: "push" }, log),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "NA_INVALID_INPUT");
        assert.match(err.message, /refusing an empty control-plane endpoint list.*keeps its 3 backend/);
        return true;
      },
    );
  }
  assert.equal(haproxy.applied.length, 1);
  assert.equal(haproxy.desired?.endpoints.length, 3);
});

test("a failed apply stays desired but unapplied; polls leave the retry to the reconciler", async () => {
  const haproxy = new FakeHaproxy();
  haproxy.failures = 1;
  await assert.rejects(
    applyControlPlaneEndpoints(haproxy, three, { source: "push" }, log),
    /refused to reload/,
  );
  assert.equal(haproxy.desired?.applied, false);
  assert.match(haproxy.desired?.lastError ?? "", /refused to reload/);
  const polled = await applyControlPlaneEndpoints(
    haproxy,
    three,
    { source: "poll", deferRetries: true },
    log,
  );
  assert.equal(polled.action, "pending");
  assert.equal(haproxy.applied.length, 0);
  const pushed = await applyControlPlaneEndpoints(haproxy, three, { source: "push" }, log);
  assert.equal(pushed.action, "started", "an explicit push retries at once");
});

test("the reconciler re-applies the stored list at start, retries failures with backoff and reports them", async () => {
  const haproxy = new FakeHaproxy();
  haproxy.desired = {
    endpoints: ["172.24.1.2:6443", "172.24.1.3:6443"],
    source: "push",
    updatedAt: "2026-01-01T00:00:00.000Z",
    applied: true,
  };
  haproxy.failures = 2;
  const reports: Nodelog[] = [];
  const reconciler = startHaproxyReconciler({
    haproxy,
    log,
    report: async (entry) => void reports.push(entry),
    tickMs: 5,
    retryBaseMs: 10,
    retryMaxMs: 20,
    random: () => 0.5,
  });
  try {
    const deadline = Date.now() + 5_000;
    while (!haproxy.isRunning && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(haproxy.isRunning, true, "HAProxy was started from the stored list");
    assert.deepEqual(haproxy.applied, [["172.24.1.2:6443", "172.24.1.3:6443"]]);
    await reconciler.idle();
    assert.deepEqual(
      reports.map((r) => [r.type, r.severity]),
      [
        ["HAProxyReload", 1],
        ["HAProxyReload", 3],
      ],
      "one failure report per streak, then the recovery",
    );
    assert.equal(reports[0]?.code, "NA_EXEC_FAILED");
    assert.match(reports[1]?.message ?? "", /after 3 attempts/);
    assert.equal(haproxy.desired?.applied, true);
  } finally {
    reconciler.stop();
  }
});

test("the reconciler restarts an HAProxy that died", async () => {
  const haproxy = new FakeHaproxy();
  await applyControlPlaneEndpoints(haproxy, three, { source: "push" }, log);
  haproxy.isRunning = false;
  const reconciler = startHaproxyReconciler({ haproxy, log, report: async () => {}, tickMs: 5, checkMs: 0 });
  try {
    const deadline = Date.now() + 5_000;
    while (!haproxy.isRunning && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(haproxy.starts, 2);
  } finally {
    reconciler.stop();
  }
});

/** A session that answers GetControlPlaneNodes with `answer()` and counts the requests. */
function fakeSession(answer: () => string[] | null) {
  let open = true;
  let end: (reason: string) => void = () => {};
  const closed = new Promise<string>((resolve) => {
    end = resolve;
  });
  const session = {
    requests: 0,
    get isOpen() {
      return open;
    },
    async request(type: string, jsonB64: string): Promise<Envelope> {
      assert.equal(type, "GetControlPlaneNodes");
      assert.equal(jsonB64, "", "spec 3.7: an empty payload");
      session.requests += 1;
      return { type: "GetControlPlaneNodesResponse", jsonB64: encodeJsonB64(answer()), tag: "t" };
    },
    closed: () => closed,
    close() {
      open = false;
      end("shutdown");
    },
  };
  return session;
}

test("the monitor polls at once, then every 5 s, or every 60 s when the control plane pushes", async () => {
  const clock = new ManualClock();
  const haproxy = new FakeHaproxy();
  let list: string[] | null = null;
  let capabilities: string[] = [];
  const session = fakeSession(() => list);
  startControlPlaneMonitor(session as unknown as Session, {
    haproxy,
    log,
    capabilities: () => capabilities,
    clock,
  });
  await flush();
  assert.equal(session.requests, 1);
  assert.equal(haproxy.applied.length, 0, "a null or empty answer is never applied");
  list = three;
  clock.advance(5_000);
  await flush();
  assert.equal(session.requests, 2);
  assert.equal(haproxy.desired?.source, "poll");
  capabilities = [controlPlanePushCapability];
  clock.advance(5_000);
  await flush();
  assert.equal(session.requests, 3);
  clock.advance(59_000);
  await flush();
  assert.equal(session.requests, 3, "with pushes, the poll is only a slow safety net");
  clock.advance(1_000);
  await flush();
  assert.equal(session.requests, 4);
  session.close();
  await flush();
  clock.advance(120_000);
  await flush();
  assert.equal(session.requests, 4, "the monitor ends with its session");
  assert.equal(haproxy.applied.length, 1);
});

test("RUNOS_SET_CONTROL_PLANE_ENDPOINTS answers with the catalogue's answer shape", async () => {
  const haproxy = new FakeHaproxy();
  const ctx = {
    host: createFakeHost({ haproxy }),
    tag: "t",
    log,
    signal: new AbortController().signal,
    node: () => ({ nid: "n1", ip: "198.18.0.10" }),
  };
  const payload = SetControlPlaneEndpoints.payload.parse({ endpoints: [...three, "nonsense"] });
  const answer = await setControlPlaneEndpoints.handle(
    payload,
    ctx as Parameters<typeof setControlPlaneEndpoints.handle>[1],
  );
  assert.equal(answer?.type, "CONTROL_PLANE_ENDPOINTS_APPLIED");
  const schema = SetControlPlaneEndpoints.answers.CONTROL_PLANE_ENDPOINTS_APPLIED;
  const parsed = schema.parse(answer?.payload);
  assert.deepEqual(
    [parsed.changed, parsed.action, parsed.endpoints.length, parsed.skipped.length],
    [true, "started", 3, 1],
  );
  assert.deepEqual(SetControlPlaneEndpoints.payload.parse({ endpoints: null }), { endpoints: [] });
});
