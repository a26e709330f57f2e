// Real Kubernetes across the two NATs: kubeadm init/join driven by nodeward's install lists, from
// nodeward's air-gapped bundle, over wg0 and the node-local HAProxy on 127.0.0.1:6446.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { exec } from "../../lab/index.js";
import { RunosLab } from "../../lab/runos-cluster.js";
import { apply, netcheckPod, podField } from "./kubernetes-support.js";
import { isRoot, waitUntil } from "./overlay-support.js";

const skip = isRoot() ? false : "lab tests need root (network and mount namespaces)";
const repo = fileURLToPath(new URL("../../", import.meta.url));
const names = ["cp1", "w1", "cp2"] as const;

describe("Kubernetes across NAT", { skip, timeout: 1_800_000 }, () => {
  let lab: RunosLab;
  let bundle = "";
  const host = (name: string) => {
    const node = lab.nodes.get(name);
    assert.ok(node, name);
    return node;
  };

  before(async () => {
    bundle = execFileSync("bash", [`${repo}lab/kubernetes/build-bundle.sh`], {
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

  test("cp1 runs kubeadm init; w1 and cp2 wait for it, then join over wg0 and 127.0.0.1:6446", async () => {
    const started = Date.now();
    const timings: Record<string, number> = {};
    const cp1 = lab.installKubernetes("cp1").then((r) => {
      timings.cp1 = r.ms;
    });
    // The others ask while cp1 is in kubeadm init: nodeward makes them wait, then hands out join data.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const rest = ["w1", "cp2"].map(async (name) => {
      timings[name] = (await lab.installKubernetes(name)).ms + 3_000;
    });
    await Promise.all([cp1, ...rest]);
    console.log(`three nodes installed in ${((Date.now() - started) / 1000).toFixed(1)} s`, timings);
    const nodes = await lab.kubectl("cp1", ["get", "nodes", "-o", "wide"]);
    console.log(nodes.stdout);
    for (const name of names) assert.match(nodes.stdout, new RegExp(`^${name}\\s+Ready`, "m"));
    // Node IPs are the wg0 addresses; cp1 is the oldest node (it ran kubeadm init).
    for (const name of names)
      assert.match(
        nodes.stdout,
        new RegExp(`^${name}\\s.*\\s${host(name).overlayIp.replaceAll(".", "\\.")}\\s`, "m"),
      );
    const created = await lab.kubectl("cp1", [
      "get",
      "nodes",
      "--sort-by=.metadata.creationTimestamp",
      "-o",
      "name",
    ]);
    assert.equal(created.stdout.trim().split("\n")[0], "node/cp1");
  });

  test("a pod on w1 (NAT-A) reaches pods on cp1 (public) and cp2 (NAT-B) over wg0", async () => {
    for (const name of names) {
      const imported = await exec(
        host(name).host.host,
        ["ctr", "-n", "k8s.io", "images", "import", `${bundle}/lab/netcheck.tar`],
        {
          timeoutMs: 60_000,
        },
      );
      assert.equal(imported.code, 0, imported.stderr);
    }
    await apply(lab, "cp1", netcheckPod("server-cp1", "cp1", ["serve", ":8080"]));
    await apply(lab, "cp1", netcheckPod("server-cp2", "cp2", ["serve", ":8080"]));
    const ips: Record<string, string> = {};
    await waitUntil("both servers run", 90_000, async () => {
      for (const pod of ["server-cp1", "server-cp2"]) {
        if ((await podField(lab, "cp1", pod, ".status.phase")) !== "Running") return false;
        ips[pod] = await podField(lab, "cp1", pod, ".status.podIP");
      }
      return true;
    });
    assert.match(ips["server-cp1"] ?? "", /^10\.244\./);
    for (const [pod, ip] of Object.entries(ips)) {
      const client = `client-${pod}`;
      await apply(lab, "cp1", netcheckPod(client, "w1", ["get", `http://${ip}:8080/`], "Never"));
      await waitUntil(`${client} finishes`, 90_000, async () =>
        ["Succeeded", "Failed"].includes(await podField(lab, "cp1", client, ".status.phase")),
      );
      const logs = await lab.kubectl("cp1", ["logs", client]);
      console.log(`w1 -> ${pod} (${ip}): ${logs.stdout.trim()}`);
      assert.equal(
        await podField(lab, "cp1", client, ".status.phase"),
        "Succeeded",
        logs.stdout + logs.stderr,
      );
      // The answer names the server's own pod address: pod IPs are kept end to end (no NAT between pods).
      assert.match(logs.stdout, new RegExp(`netcheck ${pod} ${ip.replaceAll(".", "\\.")}:8080`));
    }
  });

  test("a Service's ClusterIP on w1 reaches the server pods behind it (kube-proxy, nftables mode)", async () => {
    await apply(
      lab,
      "cp1",
      JSON.stringify({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "netcheck" },
        spec: { selector: { role: "server" }, ports: [{ port: 80, targetPort: 8080 }] },
      }),
    );
    const clusterIp = (
      await lab.kubectl("cp1", ["get", "service", "netcheck", "-o", "jsonpath={.spec.clusterIP}"])
    ).stdout.trim();
    assert.match(clusterIp, /^10\.(9[6-9]|1[01][0-9])\./);
    await waitUntil("kube-proxy runs on every node", 120_000, async () => {
      const ds = await lab.kubectl("cp1", [
        "-n",
        "kube-system",
        "get",
        "daemonset",
        "kube-proxy",
        "-o",
        "jsonpath={.status.numberReady}",
      ]);
      return ds.stdout.trim() === "3";
    });
    await waitUntil("the Service has both servers as endpoints", 60_000, async () => {
      const slices = await lab.kubectl("cp1", [
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=netcheck",
        "-o",
        "jsonpath={.items[*].endpoints[*].addresses[*]}",
      ]);
      return slices.stdout.trim().split(/\s+/).filter(Boolean).length === 2;
    });
    // kube-proxy programs the endpoints a moment after they appear: a client may come too early once.
    let logs = { stdout: "", stderr: "" };
    let phase = "";
    for (let attempt = 1; attempt <= 5 && phase !== "Succeeded"; attempt++) {
      const client = `client-service-${attempt}`;
      await apply(lab, "cp1", netcheckPod(client, "w1", ["get", `http://${clusterIp}/`], "Never"));
      await waitUntil(`${client} finishes`, 90_000, async () =>
        ["Succeeded", "Failed"].includes(await podField(lab, "cp1", client, ".status.phase")),
      );
      phase = await podField(lab, "cp1", client, ".status.phase");
      logs = await lab.kubectl("cp1", ["logs", client]);
      console.log(`w1 -> service ${clusterIp} (attempt ${attempt}): ${logs.stdout.trim()}`);
      if (phase !== "Succeeded") await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    if (phase !== "Succeeded") {
      const proxy = await lab.kubectl("cp1", [
        "-n",
        "kube-system",
        "logs",
        "-l",
        "k8s-app=kube-proxy",
        "--tail",
        "15",
        "--prefix",
      ]);
      console.log(`kube-proxy logs:\n${proxy.stdout}${proxy.stderr}`);
      const rules = await exec(host("w1").host.host, ["nft", "list", "table", "ip", "kube-proxy"], {
        timeoutMs: 10_000,
      });
      console.log(`w1 nft kube-proxy table:\n${rules.stdout.slice(0, 4000)}${rules.stderr}`);
    }
    assert.equal(phase, "Succeeded", logs.stdout + logs.stderr);
    assert.match(logs.stdout, /^netcheck server-cp[12] 10\.244\./);
  });

  test("etcd has two members, one per control plane, on their wg0 addresses", async () => {
    const listed = await lab.runos("cp1", ["etcd", "list", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const text = listed.stdout;
    console.log(text);
    for (const name of ["cp1", "cp2"]) assert.ok(text.includes(host(name).overlayIp), `${name} is a member`);
    const members = (JSON.parse(text) as { members: unknown[] }).members;
    assert.equal(members.length, 2);
  });

  test("with cp1's kube-apiserver stopped, w1 still reaches the API through 127.0.0.1:6446", async () => {
    const cp1 = host("cp1").host.host;
    const w1 = host("w1").host.host;
    const readyz = () =>
      exec(
        w1,
        [
          "kubectl",
          "--kubeconfig",
          "/etc/kubernetes/kubelet.conf",
          "get",
          "--raw",
          "/readyz",
          "--request-timeout=5s",
        ],
        {
          timeoutMs: 15_000,
        },
      );
    assert.equal((await readyz()).code, 0);
    await exec(cp1, [
      "mv",
      "/etc/kubernetes/manifests/kube-apiserver.yaml",
      "/etc/kubernetes/kube-apiserver.yaml.stopped",
    ]);
    try {
      await waitUntil("cp1's apiserver is gone", 60_000, async () => {
        const probe = await exec(cp1, [
          "curl",
          "-sk",
          "-o",
          "/dev/null",
          "--max-time",
          "2",
          `https://${host("cp1").overlayIp}:6443/readyz`,
        ]);
        return probe.code === 7; // connection refused
      });
      let ok = 0;
      const started = Date.now();
      for (let i = 0; i < 10; i++) if ((await readyz()).code === 0) ok += 1;
      console.log(
        `with cp1's apiserver down: ${ok}/10 API calls from w1 succeeded in ${Date.now() - started} ms`,
      );
      assert.equal(ok, 10);
    } finally {
      await exec(cp1, [
        "mv",
        "/etc/kubernetes/kube-apiserver.yaml.stopped",
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
      ]);
    }
    await waitUntil("cp1's apiserver is back", 120_000, async () => {
      const probe = await exec(cp1, [
        "curl",
        "-sk",
        "--max-time",
        "2",
        `https://${host("cp1").overlayIp}:6443/readyz`,
      ]);
      return probe.stdout.trim() === "ok";
    });
  });

  test("running the install again on a joined node succeeds and changes nothing (idempotent list)", async () => {
    const before = await lab.kubectl("cp1", ["get", "node", "w1", "-o", "jsonpath={.metadata.uid}"]);
    const again = await lab.runos("w1", ["install", "kubernetes"], 300_000);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stderr, /kubeadm join: already done|KUBERNETES READY/);
    const after = await lab.kubectl("cp1", ["get", "node", "w1", "-o", "jsonpath={.metadata.uid}"]);
    assert.equal(after.stdout, before.stdout, "the same Node object: w1 was not reset and re-joined");
  });

  test("deleting cp2 in nodeward removes its etcd member first and drops it from every HAProxy", async () => {
    const cp2 = host("cp2");
    const deleted = await lab.nodewardCli<{ etcdMemberRemoved: boolean }>(["node", "delete", cp2.nid]);
    assert.equal(deleted.etcdMemberRemoved, true);
    const listed = await lab.runos("cp1", ["etcd", "list", "--json"]);
    const members = (JSON.parse(listed.stdout) as { members: unknown[] }).members;
    assert.equal(members.length, 1);
    assert.ok(!listed.stdout.includes(cp2.overlayIp));
    for (const name of ["cp1", "w1"]) {
      await waitUntil(`${name}'s HAProxy drops cp2`, 30_000, async () => {
        const backends = await lab.runos(name, ["kubeproxy", "list", "--json"]);
        return backends.code === 0 && !backends.stdout.includes(`${cp2.overlayIp}:6443`);
      });
    }
    // The API still answers on w1 through cp1 alone.
    const readyz = await exec(host("w1").host.host, [
      "kubectl",
      "--kubeconfig",
      "/etc/kubernetes/kubelet.conf",
      "get",
      "--raw",
      "/readyz",
    ]);
    assert.equal(readyz.code, 0, readyz.stderr);
  });
});
