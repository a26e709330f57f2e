import assert from "node:assert/strict";
import { test } from "node:test";
import { controlPlaneNodesOf } from "../../../src/nodeward/cluster/control-plane.js";
import type { NodeRecord } from "../../../src/nodeward/store/repository.js";

const node = (nid: string, role: NodeRecord["role"], overlayIp: string | null) =>
  ({ nid, role, overlayIp }) as NodeRecord;

test("control-plane endpoints: only control-plane nodes with an overlay address, in numeric address order", () => {
  const nodes = [
    node("a", "control-plane", "172.24.3.10"),
    node("b", "worker", "172.24.3.3"),
    node("c", "control-plane", "172.24.3.9"),
    node("d", "control-plane", null),
    node("e", "control-plane", "fd00:24::2"),
  ];
  assert.deepEqual(controlPlaneNodesOf(nodes), [
    { vpnIp: "172.24.3.9", kubeEndpoint: "https://172.24.3.9:6443" },
    { vpnIp: "172.24.3.10", kubeEndpoint: "https://172.24.3.10:6443" },
    { vpnIp: "fd00:24::2", kubeEndpoint: "https://[fd00:24::2]:6443" },
  ]);
  assert.deepEqual(
    controlPlaneNodesOf([node("a", "control-plane", "172.24.3.10")], 16443).map((n) => n.kubeEndpoint),
    ["https://172.24.3.10:16443"],
  );
  assert.deepEqual(controlPlaneNodesOf([node("b", "worker", "172.24.3.3")]), []);
});
