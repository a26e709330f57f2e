import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { generateNodeKeyAndCsr, nodeUri } from "../../src/common/pki.js";
import { tokenExpiredMessage, tokenInvalidMessage } from "../../src/nodeward/registration/enrolment.js";
import { grpc } from "../../src/wire/grpc.js";
import { ManualClock } from "./helpers/manual-clock.js";
import { l1Client, startNodeward, type TestNodeward } from "./helpers/nodeward.js";

async function refusal(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  const err = await promise.then(
    () => assert.fail("expected the call to be refused"),
    (e: grpc.ServiceError) => e,
  );
  return err;
}

describe("L1Sec Register", () => {
  const clock = new ManualClock();
  let t: TestNodeward;
  before(async () => {
    t = await startNodeward({ clock });
  });
  after(() => t.close());

  test("CSR path: a certificate for the node's own key, no private key in the answer", async () => {
    const grant = await t.nw.createToken({ aid: "acct1", cluster: "c1" });
    const { csrPem } = await generateNodeKeyAndCsr("ignored");
    const res = await l1Client(t).register({
      machineId: "m-csr",
      aid: "acct1",
      token: grant.token,
      os: "ubuntu-24.04",
      csr: csrPem,
      hostname: "h1",
    });
    assert.match(res.nid, /^n-[a-z2-7]{12}$/);
    assert.equal(res.privateKey, "");
    const cert = new X509Certificate(res.publicKey);
    assert.match(cert.subjectAltName ?? "", new RegExp(nodeUri(res.nid).replaceAll("/", "\\/")));
    assert.ok(cert.verify(new X509Certificate(res.caCert).publicKey));
    const node = await t.nw.store.getNode(res.nid);
    assert.equal(node?.machineId, "m-csr");
    assert.equal(node?.os, "ubuntu-24.04");
    assert.equal(node?.hostname, "h1");
    assert.equal(node?.cluster, "c1");
    assert.equal((await t.nw.store.listCertificates(res.nid)).length, 1);
  });

  test("a token made for control planes enrols control planes; the default is a worker", async () => {
    const cpGrant = await t.nw.createToken({ aid: "acct1", cluster: "c1", role: "control-plane" });
    const workerGrant = await t.nw.createToken({ aid: "acct1", cluster: "c1" });
    const roles: string[] = [];
    for (const [i, grant] of [cpGrant, workerGrant].entries()) {
      const { csrPem } = await generateNodeKeyAndCsr("ignored");
      const res = await l1Client(t).register({
        machineId: `m-role-${i}`,
        aid: "acct1",
        token: grant.token,
        os: "debian-12",
        csr: csrPem,
        hostname: `r${i}`,
      });
      roles.push((await t.nw.store.getNode(res.nid))?.role ?? "");
    }
    assert.deepEqual(roles, ["control-plane", "worker"]);
    await assert.rejects(t.nw.createToken({ aid: "acct1", cluster: "c1", role: "admin" as "worker" }));
  });

  test("compat path (no CSR): the server makes a PKCS#1 RSA key and returns it", async () => {
    const grant = await t.nw.createToken({ aid: "acct1", cluster: "c1" });
    const res = await l1Client(t).register({
      machineId: "m-compat",
      aid: "acct1",
      token: grant.token,
      os: "debian-12",
    });
    assert.match(res.privateKey, /^-----BEGIN RSA PRIVATE KEY-----/);
    assert.match(res.publicKey, /^-----BEGIN CERTIFICATE-----/);
    assert.equal(res.caCert, t.nw.caCertPem);
  });

  test("a token has limited uses; unknown, used-up and wrong-account tokens get one message", async () => {
    const client = l1Client(t);
    const grant = await t.nw.createToken({ aid: "acct1", cluster: "c1", uses: 1 });
    await client.register({ machineId: "m-uses-1", aid: "acct1", token: grant.token, os: "x" });
    const before = (await t.nw.store.listNodes()).length;

    const usedUp = await refusal(
      client.register({ machineId: "m-uses-2", aid: "acct1", token: grant.token, os: "x" }),
    );
    const unknown = await refusal(
      client.register({ machineId: "m-uses-3", aid: "acct1", token: "nope", os: "x" }),
    );
    const other = await t.nw.createToken({ aid: "acct2", cluster: "c9" });
    const wrongAccount = await refusal(
      client.register({ machineId: "m-uses-4", aid: "acct1", token: other.token, os: "x" }),
    );
    for (const err of [usedUp, unknown, wrongAccount]) {
      assert.equal(err.code, grpc.status.PERMISSION_DENIED);
      assert.equal(err.details, tokenInvalidMessage);
    }
    assert.equal((await t.nw.store.listNodes()).length, before, "refused registrations store nothing");
    // the other account's token was not consumed by the failed attempt
    assert.equal(
      (await client.register({ machineId: "m-uses-5", aid: "acct2", token: other.token, os: "x" }))
        .privateKey !== "",
      true,
    );
  });

  test("an expired token is refused as expired and stores nothing", async () => {
    const grant = await t.nw.createToken({ aid: "acct1", cluster: "c1", ttlSeconds: 60 });
    const before = (await t.nw.store.listNodes({ includeGone: true })).length;
    clock.advance(61_000);
    const err = await refusal(
      l1Client(t).register({ machineId: "m-exp", aid: "acct1", token: grant.token, os: "x" }),
    );
    assert.equal(err.code, grpc.status.PERMISSION_DENIED);
    assert.equal(err.details, tokenExpiredMessage);
    assert.equal((await t.nw.store.listNodes({ includeGone: true })).length, before);
  });

  test("missing fields and a bad CSR are INVALID_ARGUMENT, and consume nothing", async () => {
    const grant = await t.nw.createToken({ aid: "acct1", cluster: "c1" });
    const client = l1Client(t);
    const missing = await refusal(client.register({ machineId: "", aid: "acct1", token: grant.token }));
    assert.equal(missing.code, grpc.status.INVALID_ARGUMENT);
    assert.match(missing.details, /machineId/);
    const badCsr = await refusal(
      client.register({ machineId: "m-bad", aid: "acct1", token: grant.token, csr: "garbage" }),
    );
    assert.equal(badCsr.code, grpc.status.INVALID_ARGUMENT);
    // still usable
    await client.register({ machineId: "m-good", aid: "acct1", token: grant.token, os: "x" });
  });

  test("re-registering a machine replaces its node and revokes every old certificate", async () => {
    const client = l1Client(t);
    const first = await client.register({
      machineId: "m-again",
      aid: "acct1",
      token: (await t.nw.createToken({ aid: "acct1", cluster: "c1" })).token,
      os: "x",
    });
    const second = await client.register({
      machineId: "m-again",
      aid: "acct1",
      token: (await t.nw.createToken({ aid: "acct1", cluster: "c1" })).token,
      os: "x",
    });
    assert.notEqual(first.nid, second.nid);
    const old = await t.nw.store.getNode(first.nid);
    assert.equal(old?.replacedBy, second.nid);
    const certs = await t.nw.store.listCertificates(first.nid);
    assert.ok(certs.length > 0 && certs.every((c) => c.revokedAt !== null));
    assert.equal((await t.nw.store.listCertificates(second.nid))[0]?.revokedAt, null);
  });

  test("ServerRegister is not implemented", async () => {
    const err = await refusal(l1Client(t).serverRegister({ machineId: "m", aid: "a", token: "t" }));
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
  });
});
