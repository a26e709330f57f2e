// `runos service` without systemd: the real CLI supervises a unit, restarts it by its Restart=
// policy, restarts it on request, and stops it and its child.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execArgv } from "../../src/agent/host/exec.js";
import { createPaths } from "../../src/agent/host/paths.js";
import { createServiceManager } from "../../src/agent/services/service-manager.js";
import { eventually } from "./harness.js";

const runosBin = fileURLToPath(new URL("../../bin/runos.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "runos-service-"));
const out = join(root, "starts");

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const childrenOf = (pid: number) =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
const until = (what: string, check: () => boolean, ms = 15_000) =>
  eventually(() => check() || undefined, ms, what);
const starts = () => (existsSync(out) ? readFileSync(out, "utf8").trim().split("\n").length : 0);

describe("runos service (no systemd)", () => {
  const paths = createPaths(root);
  const manager = createServiceManager(paths, execArgv, (p, name) => {
    const child = spawn(process.execPath, [runosBin, "service", "supervise", name], {
      detached: true,
      stdio: "ignore",
      env: { ...process.env, RUNOS_ROOT: p.root },
    });
    child.unref();
    return child.pid as number;
  });
  after(async () => {
    await manager.stop("demo").catch(() => {});
    rmSync(root, { recursive: true, force: true });
  });

  test("a unit that does not parse is refused before anything starts", async () => {
    mkdirSync(join(root, "etc/systemd/system"), { recursive: true });
    writeFileSync(join(root, "etc/systemd/system/broken.service"), "[Service]\nRestart=always\n");
    await assert.rejects(manager.start("broken"), /no ExecStart/);
    await assert.rejects(manager.start("../etc"), /invalid service name/);
  });

  test("ConditionPathExists holds it back; its file going away stops it; a changed EnvironmentFile restarts it", async () => {
    const gated = join(root, "gated-starts");
    writeFileSync(
      join(root, "etc/systemd/system/gated.service"),
      `[Unit]\nConditionPathExists=/etc/gate\n[Service]\nEnvironmentFile=-/etc/gate\nExecStart=/bin/sh -c "echo $MODE >> ${gated}; exec sleep 60"\nRestart=always\nRestartSec=0.2\n`,
    );
    const state = await manager.start("gated");
    const supervisor = state.pid as number;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(existsSync(gated), false, "not started while /etc/gate is missing");
    writeFileSync(join(root, "etc/gate"), "MODE=one\n");
    await until(
      "it starts once the condition holds",
      () => existsSync(gated) && readFileSync(gated, "utf8") === "one\n",
    );
    writeFileSync(join(root, "etc/gate"), "MODE=two\n");
    await until("it restarts with the new environment", () => readFileSync(gated, "utf8") === "one\ntwo\n");
    rmSync(join(root, "etc/gate"));
    await until("it stops when the condition goes", () => childrenOf(supervisor).length === 0);
    await manager.stop("gated");
    await until("the supervisor is gone", () => !alive(supervisor));
  });

  test("start, restart after the process dies (Restart=always), restart on request, stop", async () => {
    mkdirSync(join(root, "etc/systemd/system/demo.service.d"), { recursive: true });
    writeFileSync(join(root, "etc/default-demo"), `WORD=started\n`);
    writeFileSync(
      join(root, "etc/systemd/system/demo.service"),
      `[Service]\nExecStart=/bin/false\nRestart=always\nRestartSec=0.2\nEnvironmentFile=-/etc/default-demo\n`,
    );
    // the drop-in replaces the command, as kubeadm's does for the kubelet
    writeFileSync(
      join(root, "etc/systemd/system/demo.service.d/10-demo.conf"),
      `[Service]\nExecStart=\nExecStart=/bin/sh -c "echo $WORD >> ${out}; exec sleep 60"\n`,
    );
    const state = await manager.start("demo");
    assert.equal(state.running, true);
    assert.equal(state.manager, "runos");
    const supervisor = state.pid as number;
    await until("the service runs", () => starts() === 1 && childrenOf(supervisor).length === 1);
    assert.equal(readFileSync(out, "utf8").trim(), "started");
    assert.equal((await manager.start("demo")).pid, supervisor, "start is a no-op when running");

    const [first] = childrenOf(supervisor);
    process.kill(first as number, "SIGKILL");
    await until("it is restarted", () => starts() === 2 && childrenOf(supervisor).length === 1);
    assert.notEqual(childrenOf(supervisor)[0], first);

    await manager.start("demo", { restart: true });
    await until("it is restarted on request", () => starts() === 3);

    const [last] = childrenOf(supervisor);
    const stopped = await manager.stop("demo");
    assert.equal(stopped.running, false);
    await until("supervisor and service are gone", () => !alive(supervisor) && !alive(last as number));
    assert.equal((await manager.status("demo")).running, false);
  });
});
