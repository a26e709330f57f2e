import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
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
  nodeward = await startNodeward(["--offline-after", "3s"]);
});
after(async () => {
  await nodeward?.stop("SIGKILL");
});

test("enrol with a token, run the agent, see it online, exec GET_NODE_STATUS; survive a kill -9 of nodeward", async () => {
  const token = await createToken(nodeward, "acme", "prod");
  assert.match(token.caHash, /^sha256:[0-9a-f]{64}$/);
  assert.match(token.installCommand, /runos register .*--token .*--ca-hash sha256:/);

  const agent = agentOnNewMachine("one", nodeward);
  const registered = await agent.register(token);
  assert.equal(registered.code, 0, registered.stderr);
  const result = JSON.parse(registered.stdout) as {
    nid: string;
    keyGeneratedOnNode: boolean;
    caTrust: string;
  };
  assert.equal(result.keyGeneratedOnNode, true);
  assert.equal(result.caTrust, "pinned-hash");

  // The private key was made here: the certificate carries its public key, the file is 0600.
  const keyFile = join(agent.root, "etc/runos/mtls.key");
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const cert = new X509Certificate(readFileSync(join(agent.root, "etc/runos/mtls.crt")));
  const ourPublic = createPublicKey(createPrivateKey(readFileSync(keyFile))).export({
    format: "der",
    type: "spki",
  });
  assert.deepEqual(cert.publicKey.export({ format: "der", type: "spki" }), ourPublic);
  // ... and nodeward's store never saw it.
  const keyBody = readFileSync(keyFile, "utf8").split("\n")[1] ?? "";
  assert.equal(readFileSync(join(nodeward.dataDir, "nodeward.db")).includes(keyBody), false);

  const proc = agent.start();
  try {
    await eventually(
      async () => (await listNodes(nodeward)).find((n) => n.nid === result.nid && n.online),
      20_000,
      "node online",
    );

    const exec = await nodeward.cli(["node", "exec", result.nid, "GET_NODE_STATUS", "--json"]);
    assert.equal(exec.code, 0, exec.stderr);
    const answer = JSON.parse(exec.stdout) as {
      type: string;
      payload: { nodeIsReady: boolean; version?: string };
    };
    assert.equal(answer.type, "NODE_STATUS");
    assert.equal(answer.payload.nodeIsReady, false);

    const unsupported = await nodeward.cli([
      "node",
      "exec",
      result.nid,
      "UPDATE_DNSMASQ",
      '{"fileContents":""}',
    ]);
    assert.equal(unsupported.code, 1);
    assert.match(unsupported.stdout + unsupported.stderr, /not supported by this agent yet/);

    const status = await agent.cli(["status", "--json"]);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const statusData = JSON.parse(status.stdout) as {
      connected: boolean;
      daemon: { running: boolean; connected: boolean };
    };
    assert.equal(statusData.connected, true);
    assert.equal(statusData.daemon.running, true);

    // kill -9 the control plane; the same agent process comes back by itself.
    await nodeward.stop("SIGKILL");
    await eventually(
      async () => !(await listNodes(nodeward).catch(() => undefined)),
      5_000,
      "API down",
    ).catch(() => {});
    await nodeward.restart();
    await eventually(
      async () => (await listNodes(nodeward)).find((n) => n.nid === result.nid && n.online),
      40_000,
      "node online again",
    );
    assert.equal(proc.child.exitCode, null, "the agent process never exited");
    const again = await nodeward.cli(["node", "exec", result.nid, "GET_NODE_STATUS", "--json"]);
    assert.equal(again.code, 0, again.stderr);

    // The agent stops: nodeward marks it offline once heartbeats stop (--offline-after 3s).
    await proc.kill("SIGTERM");
    await eventually(
      async () => (await listNodes(nodeward)).find((n) => n.nid === result.nid && !n.online),
      15_000,
      "node offline",
    );
  } finally {
    await proc.kill("SIGKILL");
  }
});

test("refusals store nothing: bad CA pin, wrong account, reuse, expiry", async () => {
  const before = (await listNodes(nodeward)).length;
  const token = await createToken(nodeward, "acme", "prod");

  // A wrong CA pin is refused before the token is sent: the token stays usable.
  const pinned = agentOnNewMachine("pin", nodeward);
  const wrongPin = await pinned.register({ ...token, caHash: `sha256:${"0".repeat(64)}` });
  assert.equal(wrongPin.code, 1);
  assert.match(wrongPin.stdout, /NA_CA_MISMATCH/);
  assert.equal(existsSync(join(pinned.root, "etc/runos/mtls.key")), false);

  const wrongAccount = agentOnNewMachine("acct", nodeward);
  const refused = await wrongAccount.register({ ...token, aid: "someone-else" });
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /NA_TOKEN_REJECTED/);
  assert.equal(existsSync(join(wrongAccount.root, "etc/runos/mtls.crt")), false);

  const first = agentOnNewMachine("first", nodeward);
  assert.equal((await first.register(token)).code, 0);
  const reuse = agentOnNewMachine("reuse", nodeward);
  const reused = await reuse.register(token);
  assert.equal(reused.code, 1);
  assert.match(reused.stdout, /NA_TOKEN_REJECTED/);
  // An unknown token reads exactly like a used one (no oracle for guessing).
  const unknown = await agentOnNewMachine("unknown", nodeward).register({
    ...token,
    token: `${token.token}x`,
  });
  assert.equal(
    (JSON.parse(unknown.stdout) as { error: { message: string } }).error.message,
    (JSON.parse(reused.stdout) as { error: { message: string } }).error.message,
  );

  const short = await createToken(nodeward, "acme", "prod", ["--ttl", "1s"]);
  await new Promise((r) => setTimeout(r, 1_500));
  const expired = await agentOnNewMachine("late", nodeward).register(short);
  assert.equal(expired.code, 1);
  assert.match(expired.stdout, /expired/i);

  assert.equal(
    (await listNodes(nodeward)).length,
    before + 1,
    "only the one accepted registration created a node",
  );
});
