import assert from "node:assert/strict";
import { test } from "node:test";
import { setVpnPeers } from "../../../src/agent/instructions/set-vpn-peers.js";
import { validatePeers } from "../../../src/agent/vpn/peer-validation.js";
import { createFakeHost, testKeys, wireguardHandlerSetup } from "./fake-host.js";

const [keyA, keyB, keyC] = testKeys;

const setup = wireguardHandlerSetup;

test("invalid peers are skipped with a reason, valid ones are applied", async () => {
  const { wireguard, ctx } = setup();
  const answer = await setVpnPeers.handle(
    {
      peers: [
        { pubKey: keyA, endpointIp: "198.18.0.11", vpnIp: "172.24.1.2" },
        { pubKey: "not-a-key", endpointIp: "198.18.0.12", vpnIp: "172.24.1.3" },
        { pubKey: keyB, endpointIp: "node.example.com", vpnIp: "172.24.1.4" },
        { pubKey: keyC, endpointIp: "10.0.0.0/8", vpnIp: "172.24.1.5" },
      ],
    },
    ctx,
  );
  assert.equal(answer?.type, "NODE_VPN_PEER");
  const payload = answer?.payload as {
    nodePeer: { vpnIp: string; endpointIp: string };
    skipped: { pubKey: string; reason: string }[];
  };
  assert.deepEqual(
    payload.skipped.map((s) => s.pubKey),
    ["not-a-key", keyB, keyC],
  );
  assert.match(payload.skipped[1]?.reason ?? "", /host names/);
  assert.deepEqual(payload.nodePeer, {
    pubKey: wireguard.key,
    endpointIp: "198.18.0.10",
    vpnIp: "172.24.1.1",
  });
  assert.deepEqual([...(wireguard.devices.get("wg0")?.keys() ?? [])], [keyA]);
});

test("the original's list is additive; fullState replaces, in one transaction each", async () => {
  const { wireguard, host, ctx } = setup();
  await setVpnPeers.handle(
    { peers: [{ pubKey: keyA, endpointIp: "198.18.0.11", vpnIp: "172.24.1.2" }] },
    ctx,
  );
  await setVpnPeers.handle(
    { peers: [{ pubKey: keyB, endpointIp: "198.18.0.12", vpnIp: "172.24.1.3" }] },
    ctx,
  );
  assert.deepEqual([...(wireguard.devices.get("wg0")?.keys() ?? [])].sort(), [keyA, keyB].sort());
  assert.equal(wireguard.transactions, 2);
  await setVpnPeers.handle(
    { fullState: true, peers: [{ pubKey: keyC, endpointIp: "2001:db8::7", vpnIp: "172.24.1.4" }] },
    ctx,
  );
  assert.deepEqual([...(wireguard.devices.get("wg0")?.keys() ?? [])], [keyC]);
  assert.equal(wireguard.devices.get("wg0")?.get(keyC)?.endpoint, "[2001:db8::7]:51820");
  assert.equal(wireguard.transactions, 3);
  assert.equal((await host.peerStore.load("wg0"))?.peers.length, 1, "the desired set is persisted");
});

test("without wg0 the answer is an error, as the original's", async () => {
  const { ctx } = setup();
  const noWg = { ...ctx, host: createFakeHost() };
  await assert.rejects(setVpnPeers.handle({ peers: [] }, noWg), /wg0 interface not found/);
});

test("validation: extra allowed IPs must be CIDRs; empty endpoint means none", () => {
  const { valid, skipped } = validatePeers([
    { pubKey: keyA, endpointIp: "", vpnIp: "172.24.1.2", allowedIps: ["172.24.1.254/32"] },
    { pubKey: keyB, endpointIp: "198.18.0.1", vpnIp: "172.24.1.3", allowedIps: ["172.24.1.254"] },
  ]);
  assert.deepEqual(valid[0]?.allowedIps, ["172.24.1.2/32", "172.24.1.254/32"]);
  assert.equal(valid[0]?.endpoint, "");
  assert.match(skipped[0]?.reason ?? "", /not a CIDR/);
});
