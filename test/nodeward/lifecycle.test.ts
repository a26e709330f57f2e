import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { test } from "node:test";
import { silentLogger } from "../../src/common/log.js";
import { createNodeward } from "../../src/nodeward/create-nodeward.js";
import { dataDirPaths } from "../../src/nodeward/data-dir.js";
import { newTag } from "../../src/wire/envelope.js";
import { grpc } from "../../src/wire/grpc.js";
import { AgentStream, b64, enrol, eventually, l2Client, startNodeward } from "./helpers/nodeward.js";

test("stop ends streams, writes pending presence; a restart keeps CA, nodes and certificates", async () => {
  const t = await startNodeward({ config: { presenceTickMs: 60_000 } });
  try {
    assert.equal((await stat(dataDirPaths(t.dir).database)).mode & 0o777, 0o600);
    const node = await enrol(t);
    const stream = new AgentStream(l2Client(t, node));
    await eventually(() => t.nw.hub.get(node.nid) !== undefined);
    const tag = newTag();
    const beat = { externalIpAddress: "", isCp: true, isWorker: false, status: "ready", version: "9.9.9" };
    stream.send({ type: "NodeAgentHeartbeatToServer", jsonB64: b64(beat), tag });
    await stream.next((m) => m.tag === tag);
    const caPem = t.nw.caCertPem;
    const started = Date.now();
    await t.nw.stop();
    assert.ok(Date.now() - started < 2_000, "stop does not hang on open streams");
    const status = (await stream.ended) as grpc.StatusObject;
    assert.equal(status.code, grpc.status.UNAVAILABLE);
    assert.match(status.details, /shutting down/);

    const again = await createNodeward({
      config: { dataDir: t.dir, grpcHost: "127.0.0.1", l1Port: 0, l2Port: 0, httpPort: 0 },
      log: silentLogger(),
    });
    try {
      assert.equal(again.caCertPem, caPem);
      const stored = await again.store.getNode(node.nid);
      assert.equal(stored?.version, "9.9.9", "the last heartbeat was flushed at stop");
      assert.equal(stored?.isCp, true);
      await again.start();
      const t2 = { nw: again, dir: t.dir, clients: [], close: async () => {} };
      await l2Client(t2, node).addNodelog({ type: "Test", severity: 3, message: "after restart" });
      for (const client of t2.clients as { close(): void }[]) client.close();
    } finally {
      await again.stop();
    }
  } finally {
    await t.close();
  }
});
