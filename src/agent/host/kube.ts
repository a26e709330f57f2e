import { existsSync } from "node:fs";
import type { Exec } from "./exec.js";
import type { Paths } from "./paths.js";

export interface KubeFacts {
  installed: boolean;
  isCp: boolean;
  isWorker: boolean;
  /** ready | not_ready | cordoned | not_installed */
  status: string;
}

/** What the agent asks of Kubernetes on this node. */
export interface KubePort {
  nodeIsReady(nodeName: string): Promise<boolean>;
  facts(nodeName: string): Promise<KubeFacts>;
}

interface KubeNode {
  metadata?: { labels?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: { key?: string; effect?: string }[] };
  status?: { conditions?: { type?: string; status?: string }[] };
}

const cpLabels = ["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"];

/** Real port: kubectl with the node's own kubeconfig, short timeouts, no retries inside a tick. */
export function createKubePort(paths: Paths, exec: Exec): KubePort {
  const kubeconfig = () =>
    ["/etc/kubernetes/admin.conf", "/etc/kubernetes/kubelet.conf"]
      .map((p) => paths.onRoot(p))
      .find((p) => existsSync(p));
  // The bundle installs to /usr/local/bin, the packages to /usr/bin.
  const kubectl =
    ["/usr/local/bin/kubectl", "/usr/bin/kubectl"].map((p) => paths.onRoot(p)).find((p) => existsSync(p)) ??
    paths.onRoot("/usr/bin/kubectl");

  async function getNode(nodeName: string): Promise<KubeNode | undefined> {
    const config = kubeconfig();
    if (!config || !existsSync(kubectl)) return undefined;
    try {
      const result = await exec({
        argv: [kubectl, "--kubeconfig", config, "get", "node", nodeName, "-o", "json"],
        timeoutMs: 5_000,
      });
      return result.exitCode === 0 ? (JSON.parse(result.stdout) as KubeNode) : undefined;
    } catch {
      return undefined;
    }
  }

  const ready = (node: KubeNode | undefined) =>
    node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

  return {
    async nodeIsReady(nodeName) {
      return ready(await getNode(nodeName));
    },
    async facts(nodeName) {
      if (!kubeconfig()) return { installed: false, isCp: false, isWorker: false, status: "not_installed" };
      const node = await getNode(nodeName);
      if (!node) return { installed: true, isCp: false, isWorker: false, status: "not_ready" };
      const labels = node.metadata?.labels ?? {};
      const isCp = cpLabels.some((label) => label in labels);
      const dedicated = (node.spec?.taints ?? []).some(
        (t) => cpLabels.includes(t.key ?? "") && t.effect === "NoSchedule",
      );
      const status = node.spec?.unschedulable ? "cordoned" : ready(node) ? "ready" : "not_ready";
      return { installed: true, isCp, isWorker: !dedicated, status };
    },
  };
}
