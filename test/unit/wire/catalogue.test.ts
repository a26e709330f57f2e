import assert from "node:assert/strict";
import { test } from "node:test";
import { instructionCatalogue } from "../../../src/wire/instructions/index.js";
import { parseWith } from "../../../src/wire/messages.js";

// The contract's instruction types (spec 3.9); REINSTALL_NODE was removed upstream.
const contractTypes = [
  "SET_VPN_PEERS",
  "GET_NODE_STATUS",
  "GET_CLUSTER_JOIN_CMD",
  "APPLY_CR",
  "DELETE_CR",
  "APPLY_OPERATOR",
  "RUN_KUBECTL_COMMAND",
  "RUN_REMOTE_SCRIPT",
  "INSTALL_HELM_CHART",
  "UNINSTALL_HELM_CHART",
  "RUN_WEB_REQUEST",
  "UNINSTALL_NODE",
  "REMOVE_ETCD_MEMBER",
  "UPDATE_DNSMASQ",
  "UPGRADE_NODE_K8S",
  "VIP_ASSIGN",
  "VIP_RELEASE",
];

test("the catalogue has the 17 instruction types of the contract; additions are marked and prefixed", () => {
  const original = [...instructionCatalogue.values()]
    .filter((spec) => spec.since === 1)
    .map((spec) => spec.type);
  assert.deepEqual(original.sort(), [...contractTypes].sort());
  for (const spec of instructionCatalogue.values()) {
    if (spec.since > 1) assert.match(spec.type, /^RUNOS_/, `${spec.type}: additions are namespaced`);
  }
});

test("payloads follow Go JSON semantics: unknown keys ignored, missing keys zero", () => {
  const joinCmd = instructionCatalogue.get("GET_CLUSTER_JOIN_CMD");
  assert.ok(joinCmd);
  assert.deepEqual(parseWith(joinCmd.payload, { extra: 1 }, "payload"), { asCp: false });
  const etcd = instructionCatalogue.get("REMOVE_ETCD_MEMBER");
  assert.ok(etcd);
  assert.deepEqual(parseWith(etcd.payload, { node_ip: "10.0.0.1" }, "payload"), { node_ip: "10.0.0.1" });
});

test("invalid payloads get a readable validation message", () => {
  const kubectl = instructionCatalogue.get("RUN_KUBECTL_COMMAND");
  assert.ok(kubectl);
  assert.throws(
    () => parseWith(kubectl.payload, { args: [] }, "RUN_KUBECTL_COMMAND payload"),
    /expected array/,
  );
  const vip = instructionCatalogue.get("VIP_ASSIGN");
  assert.ok(vip);
  assert.throws(() => parseWith(vip.payload, { generation: "7" }, "VIP_ASSIGN payload"), /generation/);
});

test("answers shaped like the original agent's parse: every runos addition is optional", () => {
  const original: [string, string, unknown][] = [
    ["GET_NODE_STATUS", "NODE_STATUS", { nodeIsReady: true }],
    [
      "SET_VPN_PEERS",
      "NODE_VPN_PEER",
      { nodePeer: { pubKey: "k", endpointIp: "1.2.3.4", vpnIp: "172.24.0.1" } },
    ],
    ["VIP_ASSIGN", "VIP_ASSIGN_RESPONSE", { ok: true }],
    ["VIP_RELEASE", "VIP_RELEASE_RESPONSE", { ok: false, message: "x" }],
    ["GET_CLUSTER_JOIN_CMD", "CLUSTER_JOIN_CMD", { joinCmd: "kubeadm join" }],
  ];
  for (const [type, answerType, value] of original) {
    const schema = instructionCatalogue.get(type)?.answers[answerType];
    assert.ok(schema, `${type} has answer ${answerType}`);
    assert.equal(schema.safeParse(value).success, true, `${type} ${answerType}`);
  }
});
