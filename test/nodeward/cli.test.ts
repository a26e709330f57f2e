import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CliIo } from "../../src/nodeward/cli/io.js";
import { main } from "../../src/nodeward/main.js";
import {
  AgentStream,
  b64,
  enrol,
  eventually,
  l2Client,
  startNodeward,
  type TestNodeward,
  tempDir,
} from "./helpers/nodeward.js";

function bufferIo(env: Record<string, string | undefined> = {}, tty = false) {
  let stopServe: (signal: string) => void = () => {};
  const out = { text: "" };
  const err = { text: "" };
  const io: CliIo = {
    stdout: { write: (s: string) => (out.text += s), isTTY: tty },
    stderr: { write: (s: string) => (err.text += s), isTTY: tty },
    env,
    waitForShutdown: () => new Promise((resolve) => (stopServe = resolve)),
  };
  return { io, out, err, stop: (signal = "SIGTERM") => stopServe(signal) };
}

describe("nodeward CLI against a running server", () => {
  let t: TestNodeward;
  let common: string[];
  before(async () => {
    t = await startNodeward({ config: { hosts: ["nw.test"] } });
    common = ["--api", `http://127.0.0.1:${t.nw.ports().http}`, "--data-dir", t.dir];
  });
  after(() => t.close());

  test("token create --json prints one JSON document with the grant", async () => {
    const { io, out } = bufferIo();
    const code = await main(
      [
        "token",
        "create",
        "--aid",
        "acct1",
        "--cluster",
        "prod",
        "--ttl",
        "2h",
        "--uses",
        "3",
        "--json",
        ...common,
      ],
      io,
    );
    assert.equal(code, 0);
    const grant = JSON.parse(out.text);
    assert.equal(grant.aid, "acct1");
    assert.equal(grant.uses, 3);
    assert.match(
      grant.installCommand,
      /^runos register --server nw\.test --aid acct1 --token \S+ --ca-hash sha256:[0-9a-f]{64}/,
    );
  });

  test("token create for people: fields and the install command", async () => {
    const { io, out } = bufferIo();
    assert.equal(await main(["token", "create", "--aid", "acct1", "--cluster", "prod", ...common], io), 0);
    assert.match(out.text, /^token {3}/m);
    assert.match(out.text, /Run on the new machine/);
  });

  test("node list, show and logs; the token can come from NODEWARD_TOKEN", async () => {
    const node = await enrol(t, { cluster: "prod" });
    const env = { NODEWARD_TOKEN: t.nw.adminToken };
    const apiOnly = ["--api", `http://127.0.0.1:${t.nw.ports().http}`, "--data-dir", "/nonexistent"];
    const list = bufferIo(env);
    assert.equal(await main(["node", "list", ...apiOnly], list.io), 0);
    assert.match(list.out.text, /^NID\s+STATE\s+HOSTNAME/);
    assert.match(list.out.text, new RegExp(`${node.nid}\\s+offline\\s+host-a\\s+prod\\s+worker\\s+-`));
    assert.ok(!list.out.text.includes("\u001b["), "no colour off a TTY");
    const json = bufferIo(env);
    assert.equal(await main(["node", "list", "--json", ...apiOnly], json.io), 0);
    assert.ok(JSON.parse(json.out.text).nodes.some((n: { nid: string }) => n.nid === node.nid));
    const show = bufferIo(env);
    assert.equal(await main(["node", "show", node.nid, ...apiOnly], show.io), 0);
    assert.match(show.out.text, /certificates:\nSERIAL/);
    const logs = bufferIo(env);
    assert.equal(await main(["node", "logs", node.nid, ...apiOnly], logs.io), 0);
    assert.match(logs.out.text, /NodeRegistration/);
  });

  test("node exec prints the answer; an ERROR answer exits 1", async () => {
    const node = await enrol(t);
    const stream = new AgentStream(l2Client(t, node));
    await eventually(() => t.nw.hub.get(node.nid) !== undefined);
    const ok = bufferIo();
    const running = main(["node", "exec", node.nid, "GET_NODE_STATUS", "{}", ...common], ok.io);
    const first = await stream.next((m) => m.type === "GET_NODE_STATUS");
    stream.send({ type: "NODE_STATUS", jsonB64: b64({ nodeIsReady: true }), tag: first.tag });
    assert.equal(await running, 0);
    assert.match(ok.out.text, /^NODE_STATUS\n\{\n {2}"nodeIsReady": true\n\}/);

    const bad = bufferIo();
    const failing = main(["node", "exec", node.nid, "GET_NODE_STATUS", ...common], bad.io);
    const second = await stream.next((m) => m.type === "GET_NODE_STATUS");
    stream.send({ type: "ERROR", jsonB64: "kubectl not installed", tag: second.tag });
    assert.equal(await failing, 1);
    assert.match(bad.err.text, /kubectl not installed/);
    stream.close();
  });

  test("failures: one block on stderr (human) or one JSON document (--json), exit 1", async () => {
    const human = bufferIo({ NO_COLOR: "1" }, true);
    assert.equal(await main(["node", "show", "n-missing", ...common], human.io), 1);
    assert.equal(human.out.text, "");
    assert.match(human.err.text, /^✖ \[NA_NOT_FOUND\] node n-missing does not exist\n$/);
    const json = bufferIo();
    assert.equal(await main(["node", "exec", "n-missing", "NOPE", "--json", ...common], json.io), 1);
    assert.equal(JSON.parse(json.out.text).error.code, "NA_INVALID_INPUT");
    const noToken = bufferIo();
    assert.equal(await main(["node", "list", "--data-dir", "/nonexistent-dir"], noToken.io), 1);
    assert.match(noToken.err.text, /\[NA_UNAUTHORIZED\]/);
    const usage = bufferIo();
    assert.equal(await main(["token", "create", "--cluster", "x"], usage.io), 1);
    assert.match(usage.err.text, /required option '--aid <account>'/);
    const badTtl = bufferIo();
    assert.equal(
      await main(["token", "create", "--aid", "a", "--cluster", "c", "--ttl", "soon"], badTtl.io),
      1,
    );
    assert.match(badTtl.err.text, /invalid duration/);
  });
});

test("serve runs until shutdown, prints where it listens and the CA hash, and stops cleanly", async () => {
  const dir = await tempDir();
  try {
    const serve = bufferIo();
    const running = main(
      [
        "serve",
        "--data-dir",
        dir.path,
        "--host",
        "nw.lab",
        "--l1-port",
        "0",
        "--l2-port",
        "0",
        "--http-port",
        "0",
        "--log-level",
        "silent",
      ],
      serve.io,
    );
    await eventually(() => serve.err.text.includes("CA hash"), 10_000);
    const http = /http:\/\/127\.0\.0\.1:(\d+)/.exec(serve.err.text)?.[1];
    assert.ok(http);
    assert.match(serve.err.text, /CA hash\s+sha256:[0-9a-f]{64}/);
    const token = bufferIo();
    const code = await main(
      [
        "token",
        "create",
        "--aid",
        "a1",
        "--cluster",
        "c1",
        "--json",
        "--api",
        `http://127.0.0.1:${http}`,
        "--data-dir",
        dir.path,
      ],
      token.io,
    );
    assert.equal(code, 0, token.err.text);
    serve.stop("SIGTERM");
    assert.equal(await running, 0);
    assert.match(serve.err.text, /SIGTERM: shutting down/);
  } finally {
    await dir.remove();
  }
});
