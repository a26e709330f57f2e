import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  createKubePort,
  credentialsFromKubeconfig,
  factsOf,
  type KubeNode,
} from "../../../src/agent/host/kube.js";
import { createPaths } from "../../../src/agent/host/paths.js";

const readyNode = (over: Partial<KubeNode> = {}): KubeNode => ({
  metadata: { labels: { "node-role.kubernetes.io/control-plane": "" } },
  spec: { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] },
  status: { conditions: [{ type: "Ready", status: "True" }] },
  ...over,
});

describe("Kubernetes facts from the API", () => {
  test("a tainted control plane, a worker, a cordoned node, a node not Ready", () => {
    assert.deepEqual(factsOf(readyNode()), { installed: true, isCp: true, isWorker: false, status: "ready" });
    assert.deepEqual(factsOf(readyNode({ metadata: {}, spec: {} })), {
      installed: true,
      isCp: false,
      isWorker: true,
      status: "ready",
    });
    assert.equal(factsOf(readyNode({ spec: { unschedulable: true } })).status, "cordoned");
    assert.equal(
      factsOf(readyNode({ status: { conditions: [{ type: "Ready", status: "Unknown" }] } })).status,
      "not_ready",
    );
    assert.equal(factsOf(undefined).status, "not_ready");
  });

  test("kubeconfig credentials: inline data (admin.conf) or file paths (kubelet.conf)", () => {
    const inline = credentialsFromKubeconfig(
      "clusters:\n- cluster:\n    server: https://127.0.0.1:6446\n    certificate-authority-data: Q0E=\nusers:\n- user:\n    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n",
      () => Buffer.from("never"),
    );
    assert.equal(inline.server, "https://127.0.0.1:6446");
    assert.equal(inline.ca?.toString(), "CA");
    assert.equal(inline.key?.toString(), "KEY");
    const paths = credentialsFromKubeconfig(
      "clusters:\n- cluster:\n    server: https://127.0.0.1:6446\n    certificate-authority-data: Q0E=\nusers:\n- user:\n    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n",
      (p) => Buffer.from(`file:${p}`),
    );
    assert.equal(paths.cert?.toString(), "file:/var/lib/kubelet/pki/kubelet-client-current.pem");
    assert.throws(() => credentialsFromKubeconfig("clusters: []\n", () => Buffer.alloc(0)), /no server/);
  });

  test("one GET per max age at most; an API that fails means not_ready, never a stale Ready", async () => {
    const root = mkdtempSync(join(tmpdir(), "kube-facts-"));
    try {
      mkdirSync(join(root, "etc/kubernetes"), { recursive: true });
      writeFileSync(
        join(root, "etc/kubernetes/kubelet.conf"),
        "clusters:\n- cluster:\n    server: https://127.0.0.1:6446\nusers:\n- user: {}\n",
      );
      let clock = 0;
      let calls = 0;
      let fail = false;
      const port = createKubePort(createPaths(root), undefined, {
        maxAgeMs: 10_000,
        now: () => clock,
        get: async () => {
          calls += 1;
          if (fail) throw new Error("connection refused");
          return readyNode();
        },
      });
      assert.equal((await port.facts("cp1")).status, "ready");
      assert.equal(await port.nodeIsReady("cp1"), true);
      assert.equal(calls, 1);
      clock = 10_001;
      fail = true;
      assert.equal((await port.facts("cp1")).status, "not_ready");
      assert.equal(calls, 2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("no kubeconfig: not installed, and nothing is asked", async () => {
    let calls = 0;
    const port = createKubePort(createPaths(mkdtempSync(join(tmpdir(), "kube-none-"))), undefined, {
      get: async () => {
        calls += 1;
        return readyNode();
      },
    });
    assert.deepEqual(await port.facts("x"), {
      installed: false,
      isCp: false,
      isWorker: false,
      status: "not_installed",
    });
    assert.equal(calls, 0);
  });
});
