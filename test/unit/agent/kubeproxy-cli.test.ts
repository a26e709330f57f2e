import assert from "node:assert/strict";
import { test } from "node:test";
import type { CommandContext } from "../../../src/agent/cli/command.js";
import type { Io } from "../../../src/agent/cli/io.js";
import { type BackendView, createKubeproxyCommands } from "../../../src/agent/cli/kubeproxy.js";
import { createPaths } from "../../../src/agent/host/paths.js";
import { silentLogger } from "../../../src/common/log.js";
import { FakeHaproxy } from "./haproxy-fake.js";

function context(): CommandContext & { errors: string[] } {
  const errors: string[] = [];
  const io: Io = { out: () => {}, err: (text) => void errors.push(text), color: false, isTty: false };
  return {
    paths: createPaths("/nonexistent-root"),
    log: silentLogger(),
    io,
    signal: new AbortController().signal,
    errors,
  };
}

function commands(haproxy: FakeHaproxy, endpoints: string[] = []) {
  return createKubeproxyCommands({ haproxy: () => haproxy, controlPlaneEndpoints: async () => endpoints });
}

const servers = [
  { host: "172.24.1.2", port: 6443 },
  { host: "fd00::3", port: 6443 },
];

test("kubeproxy list shows live state from the runtime API while HAProxy runs", async () => {
  const haproxy = new FakeHaproxy();
  await haproxy.apply(servers);
  const out = await commands(haproxy).list.run({}, [], context());
  const data = out.data as BackendView[];
  assert.equal(data[0]?.source, "runtime");
  assert.deepEqual(
    data[0]?.servers.map((s) => [s.name, s.address, s.status]),
    [
      ["api-172.24.1.2-6443", "172.24.1.2:6443", "UP"],
      ["api-fd00::3-6443", "[fd00::3]:6443", "UP"],
    ],
  );
  assert.match(
    out.human,
    /^HAProxy backends \(live\):\nBackend: k8s_api_backend\n {2}Server: api-172\.24\.1\.2-6443, Address: 172\.24\.1\.2:6443, State: UP \(L7OK\) for 5 s, Sessions: 0 now \/ 3 total/,
  );
});

test("kubeproxy list falls back to the config file when HAProxy is not running (spec 6.5)", async () => {
  const haproxy = new FakeHaproxy();
  await haproxy.apply(servers);
  haproxy.isRunning = false;
  const out = await commands(haproxy).list.run({}, [], context());
  assert.deepEqual(out.data, [
    {
      name: "k8s_api_backend",
      source: "config",
      servers: [
        { name: "api-172.24.1.2-6443", address: "172.24.1.2:6443" },
        { name: "api-fd00::3-6443", address: "[fd00::3]:6443" },
      ],
    },
  ]);
  assert.match(out.human, /HAProxy is not running/);
});

test("kubeproxy list without a config fails with a remedy; an empty one says so on stderr", async () => {
  await assert.rejects(
    commands(new FakeHaproxy()).list.run({}, [], context()),
    (err: Error & { code?: string; hint?: string }) => {
      assert.equal(err.code, "NA_NOT_FOUND");
      assert.match(err.message, /HAProxy config not found at \/etc\/haproxy\/haproxy\.cfg/);
      assert.equal(err.hint, "run `runos kubeproxy refresh`");
      return true;
    },
  );
  const haproxy = new FakeHaproxy();
  haproxy.isRunning = true;
  const ctx = context();
  const out = await commands(haproxy).list.run({}, [], ctx);
  assert.deepEqual([out.data, out.human, ctx.errors], [[], "", ["No HAProxy backends found"]]);
});

test("kubeproxy refresh applies now, and reports a no-op as a no-op", async () => {
  const haproxy = new FakeHaproxy();
  const endpoints = ["https://172.24.1.3:6443", "https://172.24.1.2:6443"];
  const first = await commands(haproxy, endpoints).refresh.run({}, [], context());
  assert.match(
    first.human,
    /^HAProxy started with 2 control-plane endpoint\(s\): 172\.24\.1\.2:6443, 172\.24\.1\.3:6443$/,
  );
  assert.equal(haproxy.desired?.source, "refresh");
  const again = await commands(haproxy, endpoints).refresh.run({}, [], context());
  assert.equal((again.data as { changed: boolean }).changed, false);
  assert.match(again.human, /already balances these 2 endpoint\(s\); nothing changed/);
  haproxy.isRunning = false; // a refresh also brings a stopped HAProxy back
  const restarted = await commands(haproxy, endpoints).refresh.run({}, [], context());
  assert.equal((restarted.data as { action: string }).action, "started");
  const none = await commands(haproxy, []).refresh.run({}, [], context());
  assert.match(none.human, /lists no control-plane nodes; HAProxy was left unchanged/);
  assert.equal(haproxy.applied.length, 2);
});
