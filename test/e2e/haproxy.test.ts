// The HAProxy port against the real haproxy binary: golden configs pass `haproxy -c`; the agent runs
// HAProxy in master-worker mode, reloads it, and never swaps in a config HAProxy rejects. Loopback
// only, under a temp RUNOS_ROOT; the HAProxy it starts is stopped by PID.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { execArgv } from "../../src/agent/host/exec.js";
import { createHaproxyPort } from "../../src/agent/host/haproxy.js";
import { createPaths } from "../../src/agent/host/paths.js";

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return "needs root (HAProxy drops to the haproxy user)";
  try {
    execFileSync("haproxy", ["-v"], { stdio: "ignore" });
  } catch {
    return "haproxy is not installed (scripts/setup.sh installs it)";
  }
  return false;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

describe("HAProxy port on the real haproxy", { skip: skipReason() }, () => {
  let root: string;
  let bind: string;
  const masterPid = () => Number(readFileSync(join(root, "run/haproxy/haproxy.pid"), "utf8"));
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "runos-haproxy-e2e-"));
    bind = `127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    try {
      process.kill(masterPid(), "SIGTERM");
    } catch {
      // never started or already gone
    }
    await rm(root, { recursive: true, force: true });
  });

  test("the golden configs are valid for haproxy -c", () => {
    for (const name of ["haproxy.cfg", "haproxy-single.cfg"]) {
      const copy = join(root, name);
      copyFileSync(new URL(`../unit/agent/__golden__/${name}`, import.meta.url), copy);
      execFileSync("haproxy", ["-c", "-q", "-f", copy], { stdio: "pipe" });
    }
  });

  test("start, no-op, reload; a rejected config leaves file and workers as they were", async () => {
    const port = createHaproxyPort(createPaths(root), execArgv, { bind });
    const a = { host: "127.0.0.1", port: 1 };
    const b = { host: "127.0.0.1", port: 2 };
    assert.equal((await port.apply([a, b])).action, "started");
    const master = masterPid();
    assert.equal((await port.apply([b, a].reverse())).action, "unchanged");
    const reload = await port.apply([a]);
    assert.equal(reload.action, "reloaded");
    console.log(`reload through the master CLI, new backends live: ${reload.durationMs} ms`);
    assert.equal(masterPid(), master, "the master stays; only workers change");

    const before = readFileSync(port.configPath, "utf8");
    const broken = createHaproxyPort(createPaths(root), execArgv, { bind: "127.0.0.1:99999" });
    await assert.rejects(broken.apply([a, b]), (err: Error & { code?: string }) => {
      assert.equal(err.code, "NA_INVALID_INPUT");
      assert.match(err.message, /invalid port '99999'/);
      return true;
    });
    assert.equal(readFileSync(port.configPath, "utf8"), before);
    assert.deepEqual(
      (await port.liveServers()).map((s) => s.name),
      ["api-127.0.0.1-1"],
    );
    assert.equal(masterPid(), master);
  });
});
