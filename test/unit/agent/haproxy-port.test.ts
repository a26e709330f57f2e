import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import type { Exec, ExecRequest, ExecResult } from "../../../src/agent/host/exec.js";
import { createHaproxyPort } from "../../../src/agent/host/haproxy.js";
import type { SpawnDaemon } from "../../../src/agent/host/haproxy-process.js";
import { createPaths } from "../../../src/agent/host/paths.js";
import { FakeHaproxyRuntime } from "./haproxy-runtime-fake.js";

const a = { host: "172.24.3.2", port: 6443 };
const b = { host: "172.24.3.3", port: 6443 };
const c = { host: "fd00::3", port: 6443 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A temp root, a recording exec (haproxy -c and systemctl), a fake daemon spawner and the fake sockets. */
async function setup(
  options: { systemd?: boolean; check?: (argv: readonly string[]) => Partial<ExecResult> } = {},
) {
  const root = await mkdtemp(join(tmpdir(), "runos-haproxy-"));
  const paths = createPaths(root);
  const config = join(root, "etc/haproxy/haproxy.cfg");
  const run = join(root, "run/haproxy");
  const runtime = new FakeHaproxyRuntime(config);
  cleanups.push(async () => {
    await runtime.close();
    await rm(root, { recursive: true, force: true });
  });
  let unitActive = false;
  const calls: string[][] = [];
  const exec: Exec = async (request: ExecRequest) => {
    calls.push([...request.argv]);
    const done = (r: Partial<ExecResult> = {}): ExecResult => ({
      exitCode: 0,
      signal: null,
      stdout: "",
      stderr: "",
      durationMs: 1,
      timedOut: false,
      ...r,
    });
    const [tool, verb] = request.argv;
    if (tool === "haproxy") return done(options.check?.(request.argv));
    if (tool === "systemctl" && verb === "show") return done({ stdout: "loaded\n" });
    if (tool === "systemctl" && verb === "is-active") return done({ exitCode: unitActive ? 0 : 3 });
    if (tool === "systemctl" && (verb === "start" || verb === "reload")) {
      unitActive = true;
      runtime.loadConfig();
      if (verb === "start") await runtime.listenAdmin(join(run, "admin.sock"));
      return done();
    }
    return done({ exitCode: 127, stderr: "unexpected command" });
  };
  const spawned: string[][] = [];
  const spawnDaemon: SpawnDaemon = (argv) => {
    spawned.push([...argv]);
    runtime.loadConfig();
    void runtime
      .listenMaster(join(run, "master.sock"))
      .then(() => runtime.listenAdmin(join(run, "admin.sock")));
    return { pid: runtime.masterPid, exited: new Promise(() => {}) };
  };
  if (options.systemd) mkdirSync(join(root, "run/systemd/system"), { recursive: true });
  const port = createHaproxyPort(paths, exec, { spawnDaemon, settleMs: 2_000 });
  return { root, config, run, runtime, calls, spawned, port };
}

test("agent-run HAProxy: started when absent, reloaded on a change, untouched when nothing changed", async () => {
  const t = await setup();
  assert.equal((await t.port.apply([a, b])).action, "started");
  assert.deepEqual(
    t.calls,
    [["haproxy", "-c", "-f", `${t.config}.new`]],
    "validated before it was swapped in",
  );
  assert.deepEqual(t.spawned, [
    ["haproxy", "-W", "-S", `${t.run}/master.sock,mode,600`, "-f", t.config, "-p", `${t.run}/haproxy.pid`],
  ]);
  assert.equal(statSync(t.config).mode & 0o777, 0o600);
  assert.equal(existsSync(`${t.config}.new`), false);
  assert.match(readFileSync(t.config, "utf8"), /server api-172\.24\.3\.3-6443 172\.24\.3\.3:6443\n/);

  assert.equal((await t.port.apply([a, b])).action, "unchanged");
  assert.equal(t.calls.length, 1, "no validation, no reload");

  assert.equal((await t.port.apply([a, c])).action, "reloaded");
  assert.equal(t.runtime.reloads, 1);
  assert.deepEqual(t.runtime.names, ["api-172.24.3.2-6443", "api-fd00::3-6443"]);
  assert.match(
    readFileSync(join(t.run, "server-state"), "utf8"),
    /api-172\.24\.3\.3-6443/,
    "health saved for the new worker",
  );
  assert.equal(t.spawned.length, 1);
  assert.deepEqual(
    (await t.port.liveServers()).map((s) => [s.name, s.status]),
    [
      ["api-172.24.3.2-6443", "UP"],
      ["api-fd00::3-6443", "UP"],
    ],
  );
});

test("a config HAProxy rejects is never swapped in: the old file and the running workers stay", async () => {
  let reject = false;
  const t = await setup({
    check: () =>
      reject
        ? {
            exitCode: 1,
            stderr:
              "[ALERT]    (7) : config : parsing [x.cfg:30] : 'server api-x' : unknown keyword 'bogus'.\n[ALERT]    (7) : config : Fatal errors found in configuration.\n",
          }
        : {},
  });
  await t.port.apply([a, b]);
  const before = readFileSync(t.config, "utf8");
  reject = true;
  await assert.rejects(t.port.apply([a]), (err: Error & { code?: string }) => {
    assert.equal(err.code, "NA_INVALID_INPUT");
    assert.match(err.message, /unknown keyword 'bogus'/);
    assert.doesNotMatch(err.message, /Fatal errors/);
    return true;
  });
  assert.equal(readFileSync(t.config, "utf8"), before);
  assert.equal(existsSync(`${t.config}.new`), false);
  assert.equal(t.runtime.reloads, 0);
  assert.deepEqual(t.runtime.names, ["api-172.24.3.2-6443", "api-172.24.3.3-6443"]);
});

test("a reload HAProxy refuses is an error; the next apply reloads again though the file is already new", async () => {
  const t = await setup();
  await t.port.apply([a, b]);
  t.runtime.refuseReloads = 1;
  await assert.rejects(t.port.apply([a]), /refused to reload; the previous workers keep serving/);
  assert.deepEqual(t.runtime.names, ["api-172.24.3.2-6443", "api-172.24.3.3-6443"]);
  assert.equal((await t.port.apply([a])).action, "reloaded");
  assert.deepEqual(t.runtime.names, ["api-172.24.3.2-6443"]);
});

test("where systemd is PID 1 and knows haproxy.service, systemctl starts and reloads it", async () => {
  const t = await setup({ systemd: true });
  assert.equal((await t.port.apply([a])).action, "started");
  assert.equal((await t.port.apply([a, b])).action, "reloaded");
  assert.deepEqual(t.spawned, [], "the agent does not run HAProxy itself");
  const systemctl = t.calls.filter(
    (argv) => argv[0] === "systemctl" && argv[1] !== "show" && argv[1] !== "is-active",
  );
  assert.deepEqual(systemctl, [
    ["systemctl", "start", "haproxy.service"],
    ["systemctl", "reload", "haproxy.service"],
  ]);
  assert.ok(
    t.calls.some((argv) => argv.join(" ") === "systemctl show --property=LoadState --value haproxy.service"),
  );
});

test("an HAProxy that exits at start is reported with its ALERT lines", async () => {
  const root = await mkdtemp(join(tmpdir(), "runos-haproxy-"));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const ok: Exec = async () => ({
    exitCode: 0,
    signal: null,
    stdout: "",
    stderr: "",
    durationMs: 1,
    timedOut: false,
  });
  const spawnDaemon: SpawnDaemon = (_argv, logFile) => {
    mkdirSync(join(root, "var/log"), { recursive: true });
    writeFileSync(
      logFile,
      "[ALERT]    (9) : Starting frontend k8s_api: cannot bind socket (Address already in use) [0.0.0.0:6446]\n",
    );
    return { pid: 9, exited: Promise.resolve({ code: 1 }) };
  };
  const port = createHaproxyPort(createPaths(root), ok, { spawnDaemon, settleMs: 2_000 });
  await assert.rejects(port.apply([a]), (err: Error & { code?: string }) => {
    assert.equal(err.code, "NA_EXEC_FAILED");
    assert.match(
      err.message,
      /did not start \(exited with 1\): Starting frontend k8s_api: cannot bind socket/,
    );
    return true;
  });
});

test("the port refuses an empty list before touching anything", async () => {
  const t = await setup();
  await assert.rejects(t.port.apply([]), { code: "NA_INVALID_INPUT" });
  assert.deepEqual(t.calls, []);
  assert.equal(existsSync(t.config), false);
});
