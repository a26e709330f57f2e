import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  agentOnNewMachine,
  createToken,
  listNodes,
  type NodewardUnderTest,
  startNodeward,
} from "./cluster.js";
import { eventually } from "./harness.js";

let nodeward: NodewardUnderTest;

before(async () => {
  nodeward = await startNodeward();
});
after(async () => {
  await nodeward?.stop("SIGKILL");
});

test("an unregistered node gets one clear failure and exit 1", async () => {
  const agent = agentOnNewMachine("fresh", nodeward);
  const run = await agent.cli(["agent"]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /✗ FAILED: this node is not registered/);
  assert.match(run.stderr, /Try: {3}run `runos register/);
  assert.equal(run.stdout, "", "diagnostics never go to stdout");
  const json = await agent.cli(["certificate", "status", "--json"]);
  assert.equal(json.code, 1);
  assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, "NA_CERT_INVALID");
  for (const group of ["sync", "certificate", "kubeproxy", "etcd"]) {
    const bare = await agent.cli([group]);
    assert.equal(bare.code, 0, `bare \`runos ${group}\` prints help and exits 0`);
    assert.match(bare.stdout, /Usage: runos/);
  }
  const usage = await agent.cli(["register", "--server", "x"]);
  assert.equal(usage.code, 1);
  assert.match(usage.stderr, /NA_USAGE/);
});

test("a registered node: status, test, certificate status, set-config, logs, single instance", async () => {
  const agent = agentOnNewMachine("cli", nodeward);
  const token = await createToken(nodeward, "acme", "prod");
  const registered = await agent.register(token, ["-c", "1"]); // old installers pass -c
  assert.equal(registered.code, 0, registered.stderr);
  const { nid } = JSON.parse(registered.stdout) as { nid: string };

  const test = await agent.cli(["test", "--json"]);
  assert.equal(test.code, 0, test.stdout);
  const checks = JSON.parse(test.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
  assert.deepEqual(
    checks.checks.map((c) => [c.name, c.ok]),
    [
      ["Backend connection (L1Sec)", true],
      ["List control-plane nodes", true],
      ["Write node log entry", true],
    ],
  );
  const logs = await nodeward.cli(["node", "logs", nid, "--json"]);
  assert.match(logs.stdout, /Test command executed at/);
  assert.match(logs.stdout, /Node agent has been registered\./);

  const cert = await agent.cli(["certificate", "status", "--json"]);
  assert.equal(cert.code, 0);
  const certData = JSON.parse(cert.stdout) as { daysRemaining: number; renewRecommended: boolean };
  assert.ok(certData.daysRemaining >= 89);
  assert.equal(certData.renewRecommended, false);

  // A bad value is refused and the file is unchanged.
  const configFile = join(agent.root, "etc/runos/config.yaml");
  const before = readFileSync(configFile, "utf8");
  const bad = await agent.cli(["set-config", "client.server.l2-port", "99999"]);
  assert.equal(bad.code, 1);
  assert.equal(readFileSync(configFile, "utf8"), before);
  const good = await agent.cli(["set-config", "node.ip", "198.18.0.77"]);
  assert.equal(good.code, 0);
  assert.match(readFileSync(configFile, "utf8"), /ip: 198\.18\.0\.77/);

  const proc = agent.start();
  try {
    await eventually(
      async () => (await listNodes(nodeward)).find((n) => n.nid === nid && n.online),
      20_000,
      "online",
    );
    const second = await agent.cli(["agent"]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already running/);
    const status = await agent.cli(["status"]);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /Daemon: +running \(pid \d+\), connected since/);
    const lines = await agent.cli(["logs", "-n", "5", "--json"]);
    assert.equal(lines.code, 0);
    for (const line of lines.stdout.trim().split("\n")) {
      const record = JSON.parse(line) as { time: string; level: string; msg: string };
      assert.ok(record.time && record.level && record.msg);
    }
    const logText = readFileSync(join(agent.root, "var/log/runos.log"), "utf8");
    assert.equal(logText.includes(token.token), false, "the token is never logged");
    assert.equal(logText.includes("PRIVATE KEY"), false, "key material is never logged");
  } finally {
    await proc.kill("SIGTERM");
  }
  // A clean stop releases the lock.
  assert.equal(
    await agent
      .cli(["status", "--json"])
      .then((r) => (JSON.parse(r.stdout) as { daemon: { running: boolean } }).daemon.running),
    false,
  );
});
