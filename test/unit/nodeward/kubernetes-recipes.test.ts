// Golden files for every Kubernetes install list and rendered config; every command passes shellcheck.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import {
  bundleFilesFor,
  controlPlaneBundleFiles,
  type KubernetesListInput,
  kubernetesInstallCommands,
  nodeBundleFiles,
} from "../../../src/nodeward/recipes/kubernetes/list.js";
import { podCidrOf } from "../../../src/nodeward/recipes/kubernetes/network.js";
import { golden } from "../../support/golden.js";

const sum = (c: string) => c.repeat(64);
const files: Record<string, string> = {};
for (const [i, f] of [
  ...nodeBundleFiles,
  ...controlPlaneBundleFiles,
  "cni/bridge",
  "cni/host-local",
  "cni/loopback",
  "cni/portmap",
].entries())
  files[f] = sum("0123456789abcdef"[i % 16] as string);

const base: KubernetesListInput = {
  role: "init",
  kubernetesVersion: "v1.34.4",
  nodeName: "cp1",
  nodeIp: "172.24.1.1",
  clusterName: "demo",
  vip: "172.24.1.254",
  podCidr: "10.244.1.0/24",
  pauseImage: "registry.k8s.io/pause:3.10.1",
  airGapped: true,
  patchDir: "/etc/runos/kubernetes/patches",
  source: { kind: "bundle", baseUrl: "http://nodeward:9190/bundles/v1.34.4", files, images: [] },
};
const join = { token: "abcdef.0123456789abcdef", caCertHash: `sha256:${"ab".repeat(32)}` };
const encryptionKey = Buffer.alloc(32, 7).toString("base64");

const lists: Record<string, KubernetesListInput> = {
  "init-bundle": base,
  "control-plane-bundle": {
    ...base,
    role: "control-plane",
    nodeName: "cp2",
    nodeIp: "172.24.1.2",
    podCidr: "10.244.2.0/24",
    join: { ...join, certificateKey: "cd".repeat(32) },
    encryptionKey,
  },
  "worker-bundle": {
    ...base,
    role: "worker",
    nodeName: "w1",
    nodeIp: "172.24.1.3",
    podCidr: "10.244.3.0/24",
    join,
  },
  "init-online": { ...base, airGapped: false, source: { kind: "online" } },
  "worker-bundle-original-agent": {
    ...base,
    role: "worker",
    nodeName: "w1",
    nodeIp: "172.24.1.3",
    podCidr: "10.244.3.0/24",
    join,
    agent: "original",
  },
  "worker-online": {
    ...base,
    role: "worker",
    nodeName: "w1",
    nodeIp: "172.24.1.3",
    podCidr: "10.244.3.0/24",
    airGapped: false,
    source: { kind: "online" },
    join,
  },
};

const render = (input: KubernetesListInput) =>
  `${kubernetesInstallCommands(input)
    .map((c, i) => `# ${i + 1}${c.ignoreFailure ? " (ignoreFailure)" : ""}\n${c.command}`)
    .join("\n\n")}\n`;

const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;

describe("Kubernetes install lists", () => {
  for (const [name, input] of Object.entries(lists)) {
    test(`${name}: matches its golden file`, () => {
      golden(new URL(`./__golden__/k8s-${name}.sh`, import.meta.url), render(input));
    });
    test(`${name}: every command passes shellcheck (sh dialect)`, {
      skip: !hasShellcheck && "shellcheck is not installed",
    }, () => {
      for (const [i, c] of kubernetesInstallCommands(input).entries()) {
        const run = spawnSync("shellcheck", ["--shell=sh", "--severity=warning", "-"], {
          input: `${c.command}\n`,
          encoding: "utf8",
        });
        assert.equal(run.status, 0, `command ${i + 1}:\n${c.command}\n${run.stdout}`);
      }
    });
  }

  test("a worker takes no control-plane images or etcdctl", () => {
    const wanted = bundleFilesFor("worker", files);
    assert.ok(!wanted.includes("images/kube-apiserver.tar"));
    assert.ok(!wanted.includes("bin/etcdctl"));
    assert.ok(wanted.includes("images/pause.tar"));
  });

  test("a bundle that lacks a needed file is refused by name", () => {
    const { "bin/kubelet": _gone, ...partial } = files;
    assert.throws(() => bundleFilesFor("worker", partial), /lacks bin\/kubelet/);
  });

  test("joining nodes need join data; joining control planes the key too", () => {
    assert.throws(() => kubernetesInstallCommands({ ...base, role: "worker" }), /join data/);
    assert.throws(
      () => kubernetesInstallCommands({ ...base, role: "control-plane", join }),
      /certificate key/,
    );
  });

  test("no secret reaches a command line: tokens and keys only inside files or redacted assignments", () => {
    const cp = kubernetesInstallCommands(lists["control-plane-bundle"] as KubernetesListInput).map(
      (c) => c.command,
    );
    const withKey = cp.filter((c) => c.includes(encryptionKey));
    assert.equal(withKey.length, 1);
    assert.match(withKey[0] ?? "", new RegExp(`ENC_SECRET='${encryptionKey.replace(/[+/=]/g, "\\$&")}'`));
    for (const c of cp.filter((x) => x.includes(join.token))) assert.match(c, /join\.yaml/);
  });

  test("the pod range follows the overlay address and refuses anything else", () => {
    assert.equal(podCidrOf("172.24.9.17"), "10.244.17.0/24");
    for (const bad of ["172.24.9.0", "172.24.9.254", "10.0.0.1", "172.24.9.17/32", "x"])
      assert.throws(() => podCidrOf(bad));
  });
});
