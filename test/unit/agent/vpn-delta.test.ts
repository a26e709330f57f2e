import assert from "node:assert/strict";
import { test } from "node:test";
import { setVpnPeers } from "../../../src/agent/instructions/set-vpn-peers.js";
import { vpnPeersDelta } from "../../../src/agent/instructions/vpn-peers-delta.js";
import { testKeys, wireguardHandlerSetup } from "./fake-host.js";

const [keyA, keyB, keyC] = testKeys;

const setup = wireguardHandlerSetup;

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
