import assert from "node:assert/strict";
import { test } from "node:test";
import { chooseEndpoint, peerIp } from "../../../src/nodeward/cluster/endpoints.js";
import {
  allocateNodeAddress,
  allocateUserAddress,
  clusterIndices,
  vipAddress,
} from "../../../src/nodeward/cluster/ipam.js";
import { chooseListenPort } from "../../../src/nodeward/cluster/listen-port.js";
import { desiredPeersFor, userGateway } from "../../../src/nodeward/cluster/peers.js";
import type { NodeRecord } from "../../../src/nodeward/store/repository.js";
import { nodeRecord } from "./node-record.js";

test("IPAM: a /24 per cluster, .1-.253 for nodes, .254 for the VIP, users in 172.24.200.0/21", () => {
  assert.equal(clusterIndices.includes(200), false);
  assert.equal(clusterIndices.includes(207), false);
  assert.equal(clusterIndices.includes(199), true);
  assert.equal(allocateNodeAddress(3, []), "172.24.3.1");
  assert.equal(allocateNodeAddress(3, ["172.24.3.1", "172.24.3.3"]), "172.24.3.2");
  const full = Array.from({ length: 253 }, (_, i) => `172.24.3.${i + 1}`);
  assert.throws(() => allocateNodeAddress(3, full), /no free address/);
  assert.equal(vipAddress(3), "172.24.3.254");
  assert.equal(allocateUserAddress([]), "172.24.200.1");
  assert.equal(
    allocateUserAddress(Array.from({ length: 254 }, (_, i) => `172.24.200.${i + 1}`)),
    "172.24.201.1",
  );
});

test("endpoints: same NAT -> LAN address; public -> its address; behind NAT -> the NAT's address", () => {
  const pub = { reported: "198.18.0.11", observed: "198.18.0.11" };
  const a1 = { reported: "10.10.1.10", observed: "198.18.0.254" };
  const a2 = { reported: "10.10.1.11", observed: "198.18.0.254" };
  const b1 = { reported: "10.10.2.10", observed: "198.18.0.253" };
  assert.equal(chooseEndpoint(a1, a2), "10.10.1.11");
  assert.equal(chooseEndpoint(a1, pub), "198.18.0.11");
  assert.equal(chooseEndpoint(pub, a1), "198.18.0.254");
  assert.equal(chooseEndpoint(a1, b1), "198.18.0.253");
  assert.equal(chooseEndpoint(pub, { reported: "", observed: "" }), "");
  assert.equal(chooseEndpoint(pub, { reported: "203.0.113.5", observed: "" }), "203.0.113.5");
});

test("gRPC peer strings give their IP", () => {
  assert.equal(peerIp("ipv4:198.18.0.254:40312"), "198.18.0.254");
  assert.equal(peerIp("198.18.0.254:40312"), "198.18.0.254");
  assert.equal(peerIp("[::ffff:127.0.0.1]:5000"), "127.0.0.1");
  assert.equal(peerIp("ipv6:[2001:db8::1]:443"), "2001:db8::1");
  assert.equal(peerIp("unknown"), "");
});

test("listen ports: distinct behind one NAT, never wg1's 51821", () => {
  assert.equal(chooseListenPort([]), 51820);
  assert.equal(chooseListenPort([51820]), 51822);
  assert.equal(chooseListenPort([51820, 51822]), 51823);
});

const node = nodeRecord;

test("each node's peer set: every other member, endpoint per NAT situation, port, user routes via the gateway", () => {
  const nodes = [
    node("pub", {
      vpnPubKey: "P",
      overlayIp: "172.24.1.1",
      vpnEndpoint: "198.18.0.11",
      observedAddr: "198.18.0.11:1",
      listenPort: 51820,
    }),
    node("a1", {
      vpnPubKey: "A1",
      overlayIp: "172.24.1.2",
      vpnEndpoint: "10.10.1.10",
      observedAddr: "198.18.0.254:2",
      listenPort: 51820,
    }),
    node("a2", {
      vpnPubKey: "A2",
      overlayIp: "172.24.1.3",
      vpnEndpoint: "10.10.1.11",
      observedAddr: "198.18.0.254:3",
      listenPort: 51822,
    }),
    node("new", { overlayIp: "172.24.1.4" }), // no key yet: not a peer
  ];
  const inputs = {
    nodes,
    observed: (n: NodeRecord) => n.observedAddr,
    users: [{ aid: "acme", cluster: "c", name: "u", ip: "172.24.200.1", publicKey: "U", createdAt: 0 }],
  };
  assert.equal(userGateway(inputs)?.nid, "pub");
  const [self] = nodes;
  assert.ok(self);
  assert.deepEqual(desiredPeersFor(self, inputs), [
    { pubKey: "A1", endpointIp: "198.18.0.254", vpnIp: "172.24.1.2" },
    { pubKey: "A2", endpointIp: "198.18.0.254", vpnIp: "172.24.1.3", endpointPort: 51822 },
  ]);
  const a1 = nodes[1];
  assert.ok(a1);
  assert.deepEqual(desiredPeersFor(a1, inputs), [
    { pubKey: "P", endpointIp: "198.18.0.11", vpnIp: "172.24.1.1", allowedIps: ["172.24.200.1/32"] },
    { pubKey: "A2", endpointIp: "10.10.1.11", vpnIp: "172.24.1.3", endpointPort: 51822 },
  ]);
});
