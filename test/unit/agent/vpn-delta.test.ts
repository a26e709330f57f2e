import assert from "node:assert/strict";
import { test } from "node:test";
import { setVpnPeers } from "../../../src/agent/instructions/set-vpn-peers.js";
import { vpnPeersDelta } from "../../../src/agent/instructions/vpn-peers-delta.js";
import { silentLogger } from "../../../src/common/log.js";
import { createFakeHost, FakeWireGuard } from "./fake-host.js";

const keyA = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
const keyB = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";
const keyC = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";

function setup() {
  const wireguard = new FakeWireGuard();
  wireguard.createInterface("wg0");
  const host = createFakeHost({ wireguard });
  const ctx = {
    host,
    tag: "t",
    log: silentLogger(),
    signal: new AbortController().signal,
    node: () => ({ nid: "n1", ip: "198.18.0.10" }),
  };
  return { wireguard, host, ctx };
}

test("a delta touches only the named peers, in one transaction, and updates the persisted set", async () => {
  const { wireguard, host, ctx } = setup();
  await setVpnPeers.handle(
    {
      fullState: true,
      peers: [
        { pubKey: keyA, endpointIp: "198.18.0.11", vpnIp: "172.24.1.2" },
        { pubKey: keyB, endpointIp: "198.18.0.12", vpnIp: "172.24.1.3" },
      ],
    },
    ctx,
  );
  const before = wireguard.transactions;
  const answer = await vpnPeersDelta.handle(
    {
      upsert: [
        { pubKey: keyB, endpointIp: "198.18.0.99", vpnIp: "172.24.1.3" },
        { pubKey: keyC, endpointIp: "198.18.0.13", vpnIp: "172.24.1.4" },
        { pubKey: "bad", endpointIp: "x", vpnIp: "y" },
      ],
      remove: [keyA],
    },
    ctx,
  );
  assert.deepEqual(
    { ...(answer?.payload as object), skipped: undefined },
    { added: 1, updated: 1, removed: 1, skipped: undefined },
  );
  assert.equal(wireguard.transactions, before + 1);
  const device = wireguard.devices.get("wg0");
  assert.deepEqual([...(device?.keys() ?? [])].sort(), [keyB, keyC].sort());
  assert.equal(device?.get(keyB)?.endpoint, "198.18.0.99:51820");
  assert.deepEqual(
    (await host.peerStore.load("wg0"))?.peers.map((p) => p.publicKey).sort(),
    [keyB, keyC].sort(),
  );
});

test("without a full set to start from, a delta is refused (the control plane sends the full set)", async () => {
  const { ctx } = setup();
  await assert.rejects(vpnPeersDelta.handle({ upsert: [], remove: [] }, ctx), /no full peer set/);
});
