import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { certificateInfo } from "../../src/common/pki.js";
import { Nodeward as L1Nodeward } from "../../src/wire/gen/runos/nodeward/proto/l1sec/nodeward_l1sec_pb.js";
import { createTypedClient, grpc } from "../../src/wire/grpc.js";
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
  // A short certificate lifetime so the running agent must rotate within the test.
  nodeward = await startNodeward(["--cert-ttl", "24s", "--offline-after", "5s"]);
});
after(async () => {
  await nodeward?.stop("SIGKILL");
});

test("the running agent renews its certificate at half its lifetime and stays online", async () => {
  const token = await createToken(nodeward, "acme", "prod");
  const agent = agentOnNewMachine("rotate", nodeward);
  const registered = await agent.register(token);
  assert.equal(registered.code, 0, registered.stderr);
  const { nid } = JSON.parse(registered.stdout) as { nid: string };
  const certFile = join(agent.root, "etc/runos/mtls.crt");
  const first = certificateInfo(readFileSync(certFile, "utf8"));

  const proc = agent.start();
  try {
    await eventually(
      async () => (await listNodes(nodeward)).find((n) => n.nid === nid && n.online),
      20_000,
      "online",
    );
    const rotated = await eventually(
      () => {
        const now = certificateInfo(readFileSync(certFile, "utf8"));
        return now.serial !== first.serial ? now : undefined;
      },
      30_000,
      "certificate rotation",
    );
    assert.ok(rotated.notAfter > first.notAfter);
    assert.equal(statSync(join(agent.root, "etc/runos/mtls.key")).mode & 0o777, 0o600);
    // The session was redialled with the new certificate; instructions still flow.
    await eventually(
      async () => (await nodeward.cli(["node", "exec", nid, "GET_NODE_STATUS", "--json"])).code === 0,
      20_000,
      "exec after rotation",
    );
    assert.equal(proc.child.exitCode, null);
    assert.match(
      proc.log() + readFileSync(join(agent.root, "var/log/runos.log"), "utf8"),
      /certificate renewed/,
    );
  } finally {
    await proc.kill("SIGKILL");
  }
});

test("an original-style registration (no CSR) gets a PKCS#1 key, and the agent runs with it", async () => {
  const token = await createToken(nodeward, "acme", "prod");
  const agent = agentOnNewMachine("legacy", nodeward);
  const ca = readFileSync(join(nodeward.dataDir, "ca.crt"), "utf8");
  const client = createTypedClient(
    L1Nodeward,
    `localhost:${nodeward.ports.l1}`,
    grpc.credentials.createSsl(Buffer.from(ca)),
  );
  const response = await client.register({
    machineId: "legacy-machine",
    aid: "acme",
    token: token.token,
    os: "ubuntu-24.04",
  });
  client.close();
  assert.match(response.privateKey, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.match(response.nid, /^n-/);

  // Lay the files out as the original agent does, then run our agent on them.
  await mkdir(join(agent.root, "etc/runos"), { recursive: true });
  await writeFile(join(agent.root, "etc/runos/ca.crt"), response.caCert);
  await writeFile(join(agent.root, "etc/runos/mtls.crt"), response.publicKey);
  await writeFile(join(agent.root, "etc/runos/mtls.key"), response.privateKey, { mode: 0o644 });
  await writeFile(
    join(agent.root, "etc/runos/config.yaml"),
    `client:\n  aid: acme\n  server:\n    nodeward: localhost\n    l1-port: ${nodeward.ports.l1}\n    l2-port: ${nodeward.ports.l2}\nnode:\n  nid: ${response.nid}\n`,
  );
  const proc = agent.start();
  try {
    await eventually(
      async () => (await listNodes(nodeward)).find((n) => n.nid === response.nid && n.online),
      20_000,
      "online",
    );
    // The agent tightens a world-readable key at start (fleet remediation).
    assert.equal(statSync(join(agent.root, "etc/runos/mtls.key")).mode & 0o777, 0o600);
  } finally {
    await proc.kill("SIGKILL");
  }
});
