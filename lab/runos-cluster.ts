// A runos cluster on the lab: nodeward in the `nodeward` host, a real agent in every other host,
// each enrolled with a token, VPN installed by `runos install wireguard`, overlay formed by
// nodeward's peer pushes. Used by the lab tests and by the demo (scripts/demo.ts).

import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type HostSpec, SEGMENTS, type SegmentName } from "./address-plan.js";
import { exec, type LabProcess, spawn } from "./host.js";
import { prepareKubernetesHost } from "./kube-host.js";
import { waitFor } from "./run.js";
import {
  addTopologyHost,
  createTopology,
  destroyTopology,
  removeTopologyHost,
  type Topology,
  type TopologyHost,
  topologyHost,
} from "./topology.js";

const repo = fileURLToPath(new URL("../", import.meta.url));
const runosBin = `${repo}bin/runos.js`;
const nodewardBin = `${repo}bin/nodeward.js`;
const dataDir = "/var/lib/nodeward";

export interface LabNode {
  name: string;
  host: TopologyHost;
  nid: string;
  /** wg0 address, read from the host after the VPN install. */
  overlayIp: string;
  agent: LabProcess | undefined;
}

export interface NodeRow {
  nid: string;
  hostname: string;
  overlayIp: string | null;
  online: boolean;
  observedAddr: string | null;
  listenPort: number | null;
  [key: string]: unknown;
}

export interface RunosLabOptions {
  prefix: string;
  /** Agent hosts (the `nodeward` host is always added). */
  hosts?: readonly HostSpec[];
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** nodeward marks a node offline after this long without heartbeats. */
  offlineAfter?: string;
  /** More `nodeward serve` flags, e.g. `["--vip-fence", "10s"]`. */
  nodewardArgs?: readonly string[];
  /** `runos set-config KEY VALUE` on every agent host after registration, before its agent starts. */
  agentConfig?: Readonly<Record<string, string>>;
  /**
   * Kubernetes-capable hosts: nodeward serves this bundle directory (lab/kubernetes/build-bundle.sh)
   * on its installer port, and every agent host gets its own cgroup root and kubelet patch.
   */
  kubernetesBundle?: string;
  /** Hosts that join as control planes (`nodeward node set-role ... control-plane` before install). */
  controlPlanes?: readonly string[];
}

export const installerPort = 9190;

export const defaultAgentHosts: readonly HostSpec[] = [
  { name: "pub1", segment: "public" },
  { name: "a1", segment: "nat-a" },
  { name: "a2", segment: "nat-a" },
  { name: "b1", segment: "nat-b" },
];

export class RunosLab {
  readonly nodes = new Map<string, LabNode>();
  nodeward: LabProcess | undefined;
  private caHash = "";

  private constructor(
    readonly topo: Topology,
    private readonly options: RunosLabOptions,
  ) {}

  /** Builds the topology, starts nodeward, and enrols and installs every agent host. */
  static async start(options: RunosLabOptions): Promise<RunosLab> {
    const hosts = options.hosts ?? defaultAgentHosts;
    const topo = await createTopology({
      prefix: options.prefix,
      hosts: [{ name: "nodeward", segment: "public" }, ...hosts],
      signal: options.signal,
    });
    const lab = new RunosLab(topo, options);
    try {
      await lab.startNodeward();
      await Promise.all(hosts.map((spec) => lab.joinHost(spec.name)));
      return lab;
    } catch (err) {
      await lab.destroy();
      throw err;
    }
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  get nodewardHost(): TopologyHost {
    return topologyHost(this.topo, "nodeward");
  }

  async startNodeward(): Promise<void> {
    const host = this.nodewardHost;
    this.nodeward = spawn(host.host, [
      process.execPath,
      nodewardBin,
      "serve",
      "--data-dir",
      dataDir,
      "--host",
      "nodeward",
      "--host",
      host.ip,
      "--offline-after",
      this.options.offlineAfter ?? "15s",
      ...(this.options.kubernetesBundle ? ["--installer-port", String(installerPort)] : []),
      ...(this.options.nodewardArgs ?? []),
    ]);
    const probe =
      "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))";
    await waitFor(
      "nodeward /healthz",
      async () => (await exec(host.host, [process.execPath, "-e", probe], { timeoutMs: 5_000 })).code === 0,
      { timeoutMs: 30_000, everyMs: 250 },
    );
    this.log(`nodeward listening on ${host.ip} (pid ${this.nodeward.pid})`);
    if (this.options.kubernetesBundle) {
      const started = Date.now();
      const imported = await this.nodewardCli<{ kubernetesVersion: string; files: number }>(
        ["bundle", "import", this.options.kubernetesBundle],
        300_000,
      );
      this.log(
        `nodeward: Kubernetes ${imported.kubernetesVersion} bundle imported (${imported.files} files, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  }

  async stopNodeward(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await this.nodeward?.stop({ signal, timeoutMs: 5_000 });
    this.nodeward = undefined;
  }

  /** Runs a nodeward operator command inside the nodeward host; parses --json output. */
  async nodewardCli<T = unknown>(args: string[], timeoutMs = 60_000): Promise<T> {
    const result = await exec(
      this.nodewardHost.host,
      [process.execPath, nodewardBin, ...args, "--json", "--data-dir", dataDir],
      { timeoutMs },
    );
    if (result.code !== 0) throw new Error(`nodeward ${args.join(" ")}: ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  async runos(
    name: string,
    args: string[],
    timeoutMs = 120_000,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const node = this.topoHost(name);
    return exec(node.host, [process.execPath, runosBin, ...args], { timeoutMs, env: { NO_COLOR: "1" } });
  }

  private topoHost(name: string): TopologyHost {
    return topologyHost(this.topo, name);
  }

  /**
   * Enrol, start the agent, install the VPN (the order of the installer script). `vpn: false`
   * skips the VPN install (tests of other subsystems that need only the agent and its stream).
   */
  async joinHost(name: string, options: { vpn?: boolean } = {}): Promise<LabNode> {
    const host = this.topoHost(name);
    const token = await this.nodewardCli<{ token: string; caHash: string }>([
      "token",
      "create",
      "--aid",
      "lab",
      "--cluster",
      "demo",
    ]);
    this.caHash = token.caHash;
    const registered = await this.runos(name, [
      "register",
      "--server",
      "nodeward",
      "--aid",
      "lab",
      "--token",
      token.token,
      "--ca-hash",
      token.caHash,
      "--json",
    ]);
    if (registered.code !== 0)
      throw new Error(`register on ${name}: ${registered.stdout}${registered.stderr}`);
    const { nid } = JSON.parse(registered.stdout) as { nid: string };
    if (this.options.kubernetesBundle) this.prepareKubernetes(name);
    if (this.options.controlPlanes?.includes(name))
      await this.nodewardCli(["node", "set-role", nid, "control-plane"]);
    for (const [key, value] of Object.entries(this.options.agentConfig ?? {})) {
      const set = await this.runos(name, ["set-config", key, value, "--json"]);
      if (set.code !== 0) throw new Error(`set-config ${key} on ${name}: ${set.stdout}${set.stderr}`);
    }
    const node: LabNode = { name, host, nid, overlayIp: "", agent: this.startAgent(name) };
    this.nodes.set(name, node);
    if (options.vpn === false) {
      this.log(`${name}: enrolled as ${nid}, agent started (no VPN)`);
      return node;
    }
    const installed = await this.runos(name, ["install", "wireguard", "--json"]);
    if (installed.code !== 0) throw new Error(`install on ${name}: ${installed.stdout}${installed.stderr}`);
    const addr = await exec(host.host, ["ip", "-4", "-o", "address", "show", "dev", "wg0"], {
      timeoutMs: 5_000,
    });
    node.overlayIp = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(addr.stdout)?.[1] ?? "";
    this.log(`${name}: enrolled as ${nid}, VPN installed`);
    return node;
  }

  /**
   * A fresh machine's view: runos at /usr/local/bin/runos (the install list calls it), and the
   * host's own cgroup root for its kubelet.
   */
  private prepareKubernetes(name: string): void {
    const host = this.topoHost(name).host;
    prepareKubernetesHost(host);
    const bin = `${host.dir}/root/usr/local/bin`;
    mkdirSync(bin, { recursive: true });
    writeFileSync(`${bin}/runos`, `#!/bin/sh\nexec ${process.execPath} ${runosBin} "$@"\n`, { mode: 0o755 });
  }

  /** `runos install kubernetes` on a host (waits while the cluster cannot take it yet). */
  async installKubernetes(name: string, timeoutMs = 900_000): Promise<{ ms: number }> {
    const started = Date.now();
    const result = await this.runos(name, ["install", "kubernetes", "--json"], timeoutMs);
    if (result.code !== 0) throw new Error(`install kubernetes on ${name}: ${result.stdout}${result.stderr}`);
    this.log(`${name}: Kubernetes installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { ms: Date.now() - started };
  }

  /** kubectl with the admin credentials of a control-plane host (`input` for `-f -`). */
  kubectl(name: string, args: string[], options: { input?: string; timeoutMs?: number } = {}) {
    return exec(
      this.topoHost(name).host,
      ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", ...args],
      {
        timeoutMs: options.timeoutMs ?? 60_000,
        input: options.input,
      },
    );
  }

  startAgent(name: string): LabProcess {
    return spawn(this.topoHost(name).host, [process.execPath, runosBin, "agent"], {
      env: { RUNOS_LOG_LEVEL: "debug" },
    });
  }

  async restartAgent(name: string): Promise<void> {
    const node = this.mustNode(name);
    await node.agent?.stop({ timeoutMs: 5_000 });
    node.agent = this.startAgent(name);
  }

  /** A new machine joins (a fifth host, say). */
  async addHost(name: string, segment: SegmentName): Promise<LabNode> {
    await addTopologyHost(this.topo, { name, segment });
    return this.joinHost(name);
  }

  /** Deletes the node in nodeward and stops its agent (the machine stays). */
  async deleteNode(name: string): Promise<void> {
    const node = this.mustNode(name);
    await this.nodewardCli(["node", "delete", node.nid]);
    await node.agent?.stop({ timeoutMs: 5_000 });
    node.agent = undefined;
    this.nodes.delete(name);
  }

  async removeHost(name: string): Promise<void> {
    if (this.nodes.has(name)) await this.deleteNode(name);
    await removeTopologyHost(this.topo, name);
  }

  private mustNode(name: string): LabNode {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no runos node on lab host ${name}`);
    return node;
  }

  async nodeRows(): Promise<NodeRow[]> {
    const listed = await this.nodewardCli<NodeRow[] | { nodes: NodeRow[] }>(["node", "list"]);
    return Array.isArray(listed) ? listed : listed.nodes;
  }

  /** The wg0 overlay address of each joined node (as read on the node; works without nodeward). */
  async overlayAddresses(): Promise<Map<string, string>> {
    return new Map([...this.nodes.values()].map((n) => [n.name, n.overlayIp]));
  }

  /** One ping from every node to every other node's wg0 address: true where it answered. */
  async pingMatrix(timeoutSeconds = 1): Promise<Map<string, Map<string, boolean>>> {
    const addresses = await this.overlayAddresses();
    const names = [...this.nodes.keys()];
    const matrix = new Map<string, Map<string, boolean>>();
    await Promise.all(
      names.map(async (from) => {
        const row = new Map<string, boolean>();
        for (const to of names) {
          if (to === from) continue;
          const target = addresses.get(to) ?? "";
          const ping = await exec(
            this.topoHost(from).host,
            ["ping", "-c", "1", "-W", String(timeoutSeconds), target],
            {
              timeoutMs: (timeoutSeconds + 3) * 1000,
            },
          );
          row.set(to, ping.code === 0);
        }
        matrix.set(from, row);
      }),
    );
    return matrix;
  }

  /** Latest WireGuard handshake per node (any peer), from `wg show wg0 dump` in its host. */
  async lastHandshakes(): Promise<Map<string, Date | undefined>> {
    const result = new Map<string, Date | undefined>();
    for (const node of this.nodes.values()) {
      const dump = await exec(node.host.host, ["wg", "show", "wg0", "latest-handshakes"], {
        timeoutMs: 5_000,
      });
      const latest = Math.max(0, ...dump.stdout.split("\n").map((l) => Number(l.split("\t")[1] ?? 0)));
      result.set(node.name, latest > 0 ? new Date(latest * 1000) : undefined);
    }
    return result;
  }

  /** The pairs the docs say work (docs/networking.md): every pair here, given port-preserving NATs. */
  expectedPairs(): [string, string][] {
    const names = [...this.nodes.keys()];
    return names.flatMap((a) => names.filter((b) => b !== a).map((b): [string, string] => [a, b]));
  }

  get segments() {
    return SEGMENTS;
  }

  get pinnedCaHash(): string {
    return this.caHash;
  }

  async destroy(): Promise<void> {
    for (const node of this.nodes.values()) await node.agent?.stop({ timeoutMs: 3_000 }).catch(() => {});
    await this.nodeward?.stop({ timeoutMs: 3_000 }).catch(() => {});
    await destroyTopology(this.topo);
  }
}
