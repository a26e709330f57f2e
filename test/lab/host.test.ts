// Lab hosts on their own: isolation, exec/spawn, teardown by namespace scan, crash teardown.
import assert from "node:assert/strict";
import { spawn as spawnChild } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import {
  downAll,
  downHost,
  ensurePackages,
  exec,
  execOk,
  hostPath,
  hostStatus,
  isAlive,
  type LabHost,
  listHostNames,
  spawn,
  tearDownOnSignal,
  upHost,
  waitFor,
} from "../../lab/index.js";
import { labSuite } from "./support.js";

const PREFIX = "tlh"; // this file's hosts: labhost-tlh-*
const repoRoot = new URL("../../", import.meta.url).pathname;

labSuite("lab hosts", { timeout: 60_000 }, () => {
  let h1: LabHost;
  let h2: LabHost;

  before(async () => {
    await ensurePackages();
    await downAll(`${PREFIX}-*`); // leftovers of a crashed earlier run
    tearDownOnSignal(() => downAll(`${PREFIX}-*`));
    [h1, h2] = await Promise.all([upHost(`${PREFIX}-h1`, { hostname: "h1" }), upHost(`${PREFIX}-h2`)]);
  });

  after(async () => {
    await downAll(`${PREFIX}-*`);
  });

  test("each host has its own hostname, machine id, interfaces and sysfs", async () => {
    assert.equal((await execOk(h1, ["hostname"])).trim(), "h1");
    const [id1, id2] = await Promise.all(
      [h1, h2].map(async (h) => (await execOk(h, ["cat", "/etc/machine-id"])).trim()),
    );
    assert.match(id1 ?? "", /^[0-9a-f]{32}$/);
    assert.notEqual(id1, id2);
    assert.notEqual(id1, readFileSync("/etc/machine-id", "utf8").trim(), "h1 shows the VM's machine id");
    assert.equal((await execOk(h2, ["hostname"])).trim(), `${PREFIX}-h2`);
    assert.equal((await execOk(h1, ["ls", "/sys/class/net"])).trim(), "lo");
    assert.equal((await execOk(h1, [process.execPath, "-p", "require('node:os').hostname()"])).trim(), "h1");
  });

  test("private dirs and the /etc overlay stay inside their host", async () => {
    await execOk(h1, ["tee", "/etc/runos/marker", "/run/marker", "/var/lib/runos/marker"], { input: "h1\n" });
    await execOk(h1, ["tee", "-a", "/etc/hosts"], { input: "# h1 only\n" });
    for (const path of ["/etc/runos/marker", "/run/marker", "/var/lib/runos/marker"]) {
      assert.equal((await exec(h2, ["cat", path])).code, 1, `${path} leaked into h2`);
      assert.equal(readFileSync(hostPath(h1, path), "utf8"), "h1\n");
    }
    assert.ok(!existsSync("/run/marker"), "the VM's /run got the file");
    assert.match(await execOk(h1, ["cat", "/etc/hosts"]), /# h1 only/);
    assert.doesNotMatch(await execOk(h2, ["cat", "/etc/hosts"]), /# h1 only/);
    assert.doesNotMatch(readFileSync("/etc/hosts", "utf8"), /# h1 only/);
  });

  test("spawn runs in the host with env, cwd and a log file; stop ends it by PID", async () => {
    const script =
      "console.log(process.cwd(), process.env.RUNOS_ROOT, require('node:os').hostname()); setInterval(() => {}, 1000)";
    const proc = spawn(h1, [process.execPath, "-e", script], { cwd: "/etc/runos", env: { RUNOS_ROOT: "/" } });
    await waitFor("spawned output", () => readFileSync(proc.logFile, "utf8").trim());
    assert.equal(readFileSync(proc.logFile, "utf8").trim(), "/etc/runos / h1");
    assert.ok(existsSync(`${h1.dir}/pids/${proc.pid}`), "PID is recorded");
    assert.deepEqual(hostStatus(h1.name).processes, [proc.pid]);
    const status = await proc.stop();
    assert.equal(status.signal, "SIGTERM");
    assert.ok(!existsSync(`${h1.dir}/pids/${proc.pid}`), "PID file removed after exit");
  });

  test("exec kills a command at its timeout", async () => {
    const result = await exec(h1, ["sleep", "10"], { timeoutMs: 300 });
    assert.ok(result.timedOut);
    assert.ok(result.durationMs < 2_000, `took ${result.durationMs} ms`);
  });

  test("downHost ends processes found only by the namespace scan", async () => {
    const host = await upHost(`${PREFIX}-scan`);
    // Backgrounded by sh: not our child, not recorded, and pdeathsig is not inherited across fork.
    await execOk(host, ["sh", "-c", "sleep 1000 >/dev/null 2>&1 &"]);
    const [orphan] = hostStatus(host.name).processes;
    assert.ok(orphan, "the orphan is visible to the namespace scan");
    await downHost(host);
    assert.ok(!isAlive(orphan), "the orphan was killed");
    assert.ok(!listHostNames().includes(host.name));
  });

  test("after a harness crash, pdeathsig ends its daemon and downAll removes the host", async () => {
    const harness = spawnChild(
      process.execPath,
      ["--import", "tsx", "test/lab/fixtures/crash-harness.ts", `${PREFIX}-crash`],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    harness.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const daemonPid = await waitFor("daemon PID", () => Number(out.trim()) || 0, { timeoutMs: 15_000 });
    assert.ok(isAlive(daemonPid));
    harness.kill("SIGKILL");
    await waitFor("daemon to die with its harness", () => !isAlive(daemonPid), { timeoutMs: 3_000 });
    assert.ok(listHostNames().includes(`${PREFIX}-crash`), "the host outlives the crash");
    assert.deepEqual(await downAll(`${PREFIX}-crash`), [`${PREFIX}-crash`]);
    assert.ok(!listHostNames().includes(`${PREFIX}-crash`));
  });

  test("teardown leaves nothing of this file's hosts", async () => {
    await downAll(`${PREFIX}-*`);
    assert.deepEqual(
      listHostNames().filter((n) => n.startsWith(`${PREFIX}-`)),
      [],
    );
    assert.deepEqual(
      readdirSync("/tmp").filter((n) => n.startsWith(`labhost-${PREFIX}-`)),
      [],
    );
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    assert.ok(!mounts.includes(`labhost-${PREFIX}-`) && !mounts.includes(`/run/labhost/${PREFIX}-`), mounts);
  });
});
