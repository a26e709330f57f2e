// Real Kubernetes across the two NATs: kubeadm init/join driven by nodeward's install lists, from
// nodeward's air-gapped bundle, over wg0 and the node-local HAProxy on 127.0.0.1:6446.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { RunosLab } from "../../lab/runos-cluster.js";
import { isRoot, waitUntil } from "./overlay-support.js";

const skip = isRoot() ? false : "lab tests need root (network and mount namespaces)";
const repo = fileURLToPath(new URL("../../", import.meta.url));

describe("Kubernetes across NAT", { skip, timeout: 1_800_000 }, () => {
  let lab: RunosLab;
  const timings: Record<string, number> = {};

  before(async () => {
    const bundle = execFileSync("bash", [`${repo}lab/kubernetes/build-bundle.sh`], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
    lab = await RunosLab.start({
      prefix: "tk8",
      hosts: [
        { name: "cp1", segment: "public" },
        { name: "w1", segment: "nat-a" },
        { name: "cp2", segment: "nat-b" },
      ],
      kubernetesBundle: bundle,
      controlPlanes: ["cp1", "cp2"],
      log: (line) => console.log(line),
    });
  });
  after(async () => {
    await lab?.destroy();
  });

  test("cp1 runs kubeadm init; w1 and cp2 wait for it, then join over wg0", async () => {
    const started = Date.now();
    const installs = ["cp1", "w1", "cp2"].map(async (name) => {
      timings[name] = (await lab.installKubernetes(name)).ms;
    });
    await Promise.all(installs);
    console.log(`all three installed in ${((Date.now() - started) / 1000).toFixed(1)} s`, timings);
    const nodes = await lab.kubectl("cp1", ["get", "nodes", "-o", "wide"]);
    console.log(nodes.stdout);
    for (const name of ["cp1", "w1", "cp2"]) assert.match(nodes.stdout, new RegExp(`^${name}\\s+Ready`, "m"));
  });
});
