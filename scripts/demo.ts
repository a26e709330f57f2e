// The README's demo: a real lab (public segment, two NAT sites), nodeward with its embedded
// SQLite store, and four real agents that enrol, install the VPN, form the WireGuard overlay and
// then a real Kubernetes cluster (kubeadm from nodeward's air-gapped bundle): pub1 and b1 control
// planes, a1 and a2 workers. Prints the node table, `kubectl get nodes` and a ping matrix until
// Ctrl-C; `--check` prints them once and exits non-zero if a node is not Ready or a pair that
// docs/networking.md says works does not ping.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensurePackages, tearDownOnSignal } from "../lab/index.js";
import { RunosLab } from "../lab/runos-cluster.js";

const { values } = parseArgs({
  options: {
    check: { type: "boolean", default: false },
    interval: { type: "string", default: "5" },
  },
});
const check = values.check === true;
const intervalMs = Math.max(1, Number(values.interval)) * 1000;
const started = Date.now();
const say = (line: string) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);

if (process.getuid?.() !== 0) {
  process.stderr.write("demo: needs root (it builds network and mount namespaces)\n");
  process.exit(1);
}

say("installing lab packages if missing (wireguard-go, wireguard-tools, nftables, iproute2, iputils-ping)");
await ensurePackages();
say("building the lab: public segment, NAT-A (a1, a2), NAT-B (b1), nodeward on the public segment");
let lab: RunosLab | undefined;
const stopSignals = tearDownOnSignal(async () => {
  await lab?.destroy();
});

const controlPlanes = ["pub1", "b1"];
try {
  say("building (or reusing) the Kubernetes bundle from Go modules (cold: about 9 min; cached: seconds)");
  const bundle = execFileSync(
    "bash",
    [fileURLToPath(new URL("../lab/kubernetes/build-bundle.sh", import.meta.url))],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    },
  ).trim();
  const labStarted = Date.now();
  lab = await RunosLab.start({ prefix: "demo", log: say, kubernetesBundle: bundle, controlPlanes });
  say(
    "all four agents enrolled, VPN installed; installing Kubernetes (pub1 runs kubeadm init, the others wait, then join)",
  );
  const first = lab.installKubernetes("pub1");
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await Promise.all([first, ...["a1", "a2", "b1"].map((name) => (lab as RunosLab).installKubernetes(name))]);
  say(
    `Kubernetes: four nodes Ready ${((Date.now() - labStarted) / 1000).toFixed(0)} s after the lab started`,
  );
  const deadline = Date.now() + 20_000;
  let ok = await render(lab);
  // --check: retry until the mesh is complete or 20 s passed; otherwise refresh until Ctrl-C.
  while (!check || (!ok && Date.now() < deadline)) {
    if (!check)
      process.stdout.write(`\n(refreshing every ${intervalMs / 1000} s; Ctrl-C tears everything down)\n`);
    await new Promise((resolve) => setTimeout(resolve, check ? 1_000 : intervalMs));
    ok = await render(lab);
  }
  say(
    ok
      ? "check passed: every node is Ready and every pair pings over wg0"
      : "check FAILED: a node is not Ready or a pair does not ping",
  );
  process.exitCode = ok ? 0 : 1;
} catch (err) {
  say(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  stopSignals();
  say("tearing down");
  await lab?.destroy();
}

/** Prints the node table, `kubectl get nodes` and the ping matrix; true when all is well. */
async function render(current: RunosLab): Promise<boolean> {
  const [rows, matrix, handshakes, kube] = await Promise.all([
    current.nodeRows(),
    current.pingMatrix(),
    current.lastHandshakes(),
    current.kubectl("pub1", ["get", "nodes", "-o", "wide"]),
  ]);
  const byNid = new Map(rows.map((r) => [r.nid, r]));
  const lines = [
    "",
    `${"node".padEnd(6)} ${"nid".padEnd(16)} ${"overlay".padEnd(13)} ${"endpoint".padEnd(20)} ${"online".padEnd(7)} last handshake`,
  ];
  for (const node of current.nodes.values()) {
    const row = byNid.get(node.nid);
    const handshake = handshakes.get(node.name);
    const endpoint = `${node.host.ip}:${row?.listenPort ?? "-"}`;
    const age = handshake ? `${Math.round((Date.now() - handshake.getTime()) / 1000)} s ago` : "never";
    lines.push(
      `${node.name.padEnd(6)} ${node.nid.padEnd(16)} ${node.overlayIp.padEnd(13)} ${endpoint.padEnd(20)} ${String(row?.online ?? false).padEnd(7)} ${age}`,
    );
  }
  const names = [...current.nodes.keys()];
  lines.push("", `ping over wg0  ${names.map((n) => n.padEnd(5)).join(" ")}`);
  let ok = true;
  for (const from of names) {
    const cells = names.map((to) => {
      if (to === from) return "-".padEnd(5);
      const good = matrix.get(from)?.get(to) === true;
      if (!good) ok = false;
      return (good ? "ok" : "FAIL").padEnd(5);
    });
    lines.push(`${from.padEnd(14)} ${cells.join(" ")}`);
  }
  lines.push(
    "",
    "kubectl get nodes (on pub1)",
    kube.code === 0 ? kube.stdout.trimEnd() : `kubectl failed: ${kube.stderr.trim()}`,
  );
  for (const name of names) if (!new RegExp(`^${name}\\s+Ready`, "m").test(kube.stdout)) ok = false;
  process.stdout.write(`${lines.join("\n")}\n`);
  return ok;
}
