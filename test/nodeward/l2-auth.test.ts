import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { CertificateAuthority, createCa, generateNodeKeyAndCsr } from "../../src/common/pki.js";
import { VpnPeerSchema } from "../../src/wire/gen/runos/nodeward/proto/l2sec/nodeward_l2sec_pb.js";
import { grpc } from "../../src/wire/grpc.js";
import { ManualClock } from "./helpers/manual-clock.js";
import { enrol, l1Client, l2Client, startNodeward, type TestNodeward } from "./helpers/nodeward.js";

async function refusal(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => assert.fail("expected the call to be refused"),
    (e: grpc.ServiceError) => e,
  );
}

const log = { type: "Test", severity: 3, message: "hello" };

describe("L2Sec authentication", () => {
  const clock = new ManualClock();
  let t: TestNodeward;
  before(async () => {
    t = await startNodeward({ clock });
  });
  after(() => t.close());

  test("a registered node's certificate is accepted", async () => {
    const node = await enrol(t);
    await l2Client(t, node).addNodelog(log);
    const logs = await t.nw.store.listNodelogs(node.nid, 10);
    assert.equal(logs.at(-1)?.message, "hello");
  });

  test("no client certificate: refused at the handshake", async () => {
    const err = await refusal(l2Client(t).addNodelog(log, { deadlineMs: 3_000 }));
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });

  test("a certificate from another CA: refused at the handshake", async () => {
    const foreign = await CertificateAuthority.load(await createCa("someone else"));
    const { keyPem, csrPem } = await generateNodeKeyAndCsr("x");
    const node = await enrol(t);
    const issued = await foreign.signNodeCsr(csrPem, node.nid, 3_600_000);
    const err = await refusal(
      l2Client(t, { keyPem, certPem: issued.certPem }).addNodelog(log, { deadlineMs: 3_000 }),
    );
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });

  test("after re-registration the old certificate is revoked: UNAUTHENTICATED", async () => {
    const first = await enrol(t, { machineId: "m-rereg" });
    await l2Client(t, first).addNodelog(log);
    await enrol(t, { machineId: "m-rereg" });
    const err = await refusal(l2Client(t, first).addNodelog(log));
    assert.equal(err.code, grpc.status.UNAUTHENTICATED);
    assert.match(err.details, /revoked/);
  });

  test("a deleted node is refused", async () => {
    const node = await enrol(t);
    await t.nw.deleteNode(node.nid);
    const err = await refusal(l2Client(t, node).updateStatus({ status: "x" }));
    assert.equal(err.code, grpc.status.UNAUTHENTICATED);
  });

  test("RegenerateCertificate with a CSR: new cert, old one valid for the grace period only", async () => {
    const node = await enrol(t);
    const { keyPem, csrPem } = await generateNodeKeyAndCsr("x");
    const res = await l2Client(t, node).regenerateCertificate({ csr: csrPem });
    assert.equal(res.privateKey, "");
    const renewed = { keyPem, certPem: res.publicKey };
    await l2Client(t, renewed).addNodelog(log);
    await l2Client(t, node).addNodelog(log); // within grace
    clock.advance(5 * 60_000 + 1_000);
    const err = await refusal(l2Client(t, node).addNodelog(log));
    assert.equal(err.code, grpc.status.UNAUTHENTICATED);
    assert.match(err.details, /replaced by a newer one/);
    await l2Client(t, renewed).addNodelog(log);
  });

  test("RegenerateCertificate without a CSR returns a PKCS#1 key (original agent)", async () => {
    const node = await enrol(t);
    const res = await l2Client(t, node).regenerateCertificate({});
    assert.match(res.privateKey, /BEGIN RSA PRIVATE KEY/);
    await l2Client(t, { keyPem: res.privateKey, certPem: res.publicKey }).updateStatus({ status: "ok" });
  });

  test("UpdateStatus, ManualSync and the empty lists are served; unknown RPCs are UNIMPLEMENTED", async () => {
    const node = await enrol(t);
    const client = l2Client(t, node);
    await client.updateStatus({ status: "INSTALL_ERROR" });
    const sync = await client.manualSync({
      nodePeer: create(VpnPeerSchema, { pubKey: "PUB=", endpointIp: "192.0.2.7", ip: "172.24.1.2" }),
      nodeIsReady: true,
    });
    assert.deepEqual(sync.peers, []);
    assert.deepEqual((await client.getControlPlaneNodes({})).ControlPlaneNodes, []);
    // No control plane in the cluster yet: come back later, with the reason and a retry hint.
    await assert.rejects(client.getInstallCommands({}), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
      assert.match(err.details, /NA_CLUSTER_NOT_READY/);
      assert.ok(Number(err.metadata.get("runos-retry-after-ms")[0]) > 0);
      return true;
    });
    const vpn = (await client.getInstallVpnCommands({})).commands.map((c) => c.command);
    assert.equal(vpn[0], "echo STATUS_UPDATE:INSTALLING_WIREGUARD");
    assert.ok(
      vpn.some((c) => /^ip address replace 172\.24\.\d+\.\d+\/24 dev wg0$/.test(c)),
      "the node's own overlay address",
    );
    const stored = await t.nw.store.getNode(node.nid);
    assert.equal(stored?.installStatus, "INSTALL_ERROR");
    assert.equal(stored?.vpnPubKey, "PUB=");
    assert.equal(stored?.vpnIp, "172.24.1.2");
    assert.equal(stored?.nodeIsReady, true);
    const err = await refusal(client.getNodeRegistrationToken({}));
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
  });

  test("L1 pins: a client that trusts another CA cannot enrol", async () => {
    const other = await createCa("other");
    const err = await refusal(
      l1Client(t, other.certPem).register({ machineId: "m", aid: "a", token: "t" }, { deadlineMs: 3_000 }),
    );
    assert.equal(err.code, grpc.status.UNAVAILABLE);
  });
});
