/**
 * bench/kubernetes.ts — time from `runos register` to the node Ready, per role, on real Kubernetes
 * in the lab (bundle cached), and nodeward's and the agents' CPU and memory during the bootstrap.
 *
 *   node --import tsx bench/kubernetes.ts [--prefix bk8] [--kubectl-probes 20]
 *
 * Root only. Hosts: cp1 (public, first control plane), w1 (NAT-A, worker), cp2 (NAT-B, second
 * control plane), nodeward on the public segment. Phases per node: register + VPN install (the lab's
 * joinHost), then `runos install kubernetes` until its `kubectl wait --for=condition=Ready`.
 * w1 and cp2 start their Kubernetes install 2 s after cp1 (they wait for the cluster).
 *
 * Also compares the heartbeat's Kubernetes read: the original runs `kubectl get node` three times
 * per 5 s heartbeat; runos does one HTTPS GET of its Node object at most every 10 s. Measured on cp1:
 * N kubectl processes against N HTTPS GETs (wall ms each).
 *
 * Prints a table; the last stdout line is the whole result as JSON. Progress on stderr.
 */
import { execFileSync } from "node:child_process";
import { availableParallelism, loadavg, release } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { exec } from "../lab/index.js";
import { RunosLab } from "../lab/runos-cluster.js";
import { procFigures, sampleProcess } from "./lib/proc-stats.js";

const { values } = parseArgs({
  options: {
    prefix: { type: "string", default: "bk8" },
    "kubectl-probes": { type: "string", default: "20" },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);
const repo = fileURLToPath(new URL("../", import.meta.url));
const bundle = execFileSync("bash", [`${repo}lab/kubernetes/build-bundle.sh`], {
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
}).trim();
const hosts = [
  { name: "cp1", segment: "public" as const, role: "first control plane" },
  { name: "w1", segment: "nat-a" as const, role: "worker" },
  { name: "cp2", segment: "nat-b" as const, role: "second control plane" },
];
let registersStarted = 0;
const enrolled: Record<string, number> = {};
const lab = await RunosLab.start({
  prefix: values.prefix as string,
  hosts: hosts.map(({ name, segment }) => ({ name, segment })),
  kubernetesBundle: bundle,
  controlPlanes: ["cp1", "cp2"],
  log: (line) => {
    // The agents register right after the bundle import; each then installs its VPN.
    if (/bundle imported/.test(line)) registersStarted = Date.now();
    const m = /^(\w+): enrolled as/.exec(line);
    if (m?.[1]) enrolled[m[1]] = Date.now() - registersStarted;
    log(line);
  },
});
try {
  const pids: Record<string, number | undefined> = {
    nodeward: lab.nodeward?.pid,
    ...Object.fromEntries([...lab.nodes.values()].map((n) => [n.name, n.agent?.pid])),
  };
  const series = Object.fromEntries(
    Object.entries(pids)
      .filter((entry): entry is [string, number] => entry[1] !== undefined)
      .map(([k, pid]) => [k, sampleProcess(pid, 1_000)]),
  );
  const k8sStart = Date.now();
  const installed: Record<string, number> = {};
  const first = lab.installKubernetes("cp1").then(() => {
    installed.cp1 = Date.now() - k8sStart;
  });
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await Promise.all([
    first,
    ...["w1", "cp2"].map(async (name) => {
      await lab.installKubernetes(name);
      installed[name] = Date.now() - k8sStart;
    }),
  ]);
  const k8sEnd = Date.now();
  const seconds = (k8sEnd - k8sStart) / 1000;
  const cpu: Record<string, number> = {};
  const peak: Record<string, number> = {};
  for (const [k, s] of Object.entries(series)) {
    const figures = procFigures(s.stop(), k8sStart - 1_000, k8sEnd + 1_000);
    cpu[k] = figures.cpuSeconds;
    peak[k] = figures.peakRssKiB / 1024;
  }

  // Heartbeat read: kubectl processes (the original, 3 per beat) against one HTTPS GET (runos).
  const probes = Number(values["kubectl-probes"]);
  const cp1 = lab.nodes.get("cp1")?.host.host;
  if (!cp1) throw new Error("no cp1");
  const script = `
    import { createKubePort } from "${repo}src/agent/host/kube.ts";
    import { createPaths } from "${repo}src/agent/host/paths.ts";
    import { execFileSync } from "node:child_process";
    const n = ${probes};
    const port = createKubePort(createPaths("/"), undefined, { maxAgeMs: 0 });
    await port.facts("cp1");
    let t = performance.now();
    for (let i = 0; i < n; i++) await port.facts("cp1");
    const https = (performance.now() - t) / n;
    t = performance.now();
    for (let i = 0; i < n; i++) execFileSync("kubectl", ["--kubeconfig", "/etc/kubernetes/admin.conf", "get", "node", "cp1", "-o", "json"], { stdio: "pipe" });
    const kubectl = (performance.now() - t) / n;
    console.log(JSON.stringify({ https, kubectl }));`;
  const probe = await exec(cp1, [process.execPath, "--import", "tsx", "--input-type=module", "-e", script], {
    timeoutMs: 300_000,
    cwd: repo,
  });
  const read = JSON.parse(probe.stdout.trim().split("\n").pop() ?? "{}") as {
    https: number;
    kubectl: number;
  };

  const rows = hosts.map((h) => ({
    node: h.name,
    role: h.role,
    registerAndVpnMs: enrolled[h.name] ?? 0,
    registerToReadyMs: k8sStart - registersStarted + (installed[h.name] ?? 0),
    kubernetesInstallMs: installed[h.name] ?? 0,
  }));
  process.stdout.write(
    `\nKubernetes bootstrap, ${availableParallelism()} CPUs, kernel ${release()}, load ${loadavg()[0]?.toFixed(2)} at the end\n`,
  );
  process.stdout.write(
    `${"node".padEnd(5)} ${"role".padEnd(21)} ${"k8s install -> Ready".padEnd(21)} register -> Ready\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `${r.node.padEnd(5)} ${r.role.padEnd(21)} ${`${(r.kubernetesInstallMs / 1000).toFixed(1)} s`.padEnd(21)} ${(r.registerToReadyMs / 1000).toFixed(1)} s\n`,
    );
  process.stdout.write(`\nCPU seconds during the ${seconds.toFixed(0)} s bootstrap, peak RSS:\n`);
  for (const k of Object.keys(cpu))
    process.stdout.write(
      `  ${k.padEnd(9)} ${cpu[k]?.toFixed(2)} s CPU (${(((cpu[k] ?? 0) / seconds) * 100).toFixed(1)} % of a core), ${peak[k]?.toFixed(0)} MiB\n`,
    );
  process.stdout.write(
    `\nheartbeat Kubernetes read on cp1 (${probes} each): kubectl process ${read.kubectl?.toFixed(1)} ms, HTTPS GET ${read.https?.toFixed(1)} ms (x${(read.kubectl / read.https).toFixed(0)}); per 5 s heartbeat the original runs 3 kubectl, runos 0.5 GET\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ machine: { cpus: availableParallelism(), kernel: release() }, rows, bootstrapSeconds: seconds, cpu, peakRssMiB: peak, heartbeatRead: read })}\n`,
  );
} finally {
  await lab.destroy();
}
