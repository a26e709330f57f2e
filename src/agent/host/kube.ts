import { existsSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { parse } from "yaml";
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

export interface KubeNode {
  metadata?: { labels?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: { key?: string; effect?: string }[] };
  status?: { conditions?: { type?: string; status?: string }[] };
}

/** Where and how to reach the API: the server and TLS material of a kubeconfig. */
export interface ApiCredentials {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

const cpLabels = ["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"];
const kubeconfigs = ["/etc/kubernetes/admin.conf", "/etc/kubernetes/kubelet.conf"];

/** Reads server, CA and client certificate from a kubeconfig (inline data or file paths). */
export function credentialsFromKubeconfig(text: string, read: (path: string) => Buffer): ApiCredentials {
  const doc = parse(text) as {
    clusters?: { cluster?: Record<string, string> }[];
    users?: { user?: Record<string, string> }[];
  };
  const cluster = doc.clusters?.[0]?.cluster ?? {};
  const user = doc.users?.[0]?.user ?? {};
  const material = (data?: string, path?: string) =>
    data ? Buffer.from(data, "base64") : path ? read(path) : undefined;
  if (!cluster.server) throw new Error("the kubeconfig names no server");
  return {
    server: cluster.server,
    ca: material(cluster["certificate-authority-data"], cluster["certificate-authority"]),
    cert: material(user["client-certificate-data"], user["client-certificate"]),
    key: material(user["client-key-data"], user["client-key"]),
  };
}

/** One GET of the node's own Node object (the Node authorizer lets a node read exactly that). */
export function getNodeOverHttps(
  credentials: ApiCredentials,
  nodeName: string,
  timeoutMs = 3_000,
): Promise<KubeNode> {
  const url = new URL(`/api/v1/nodes/${encodeURIComponent(nodeName)}`, credentials.server);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        ca: credentials.ca,
        cert: credentials.cert,
        key: credentials.key,
        timeout: timeoutMs,
        headers: { accept: "application/json" },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (body.length < 4 * 1024 * 1024) body += chunk;
        });
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}`));
          try {
            resolve(JSON.parse(body) as KubeNode);
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${url.pathname}: timed out`)));
    req.on("error", reject);
    req.end();
  });
}

export function factsOf(node: KubeNode | undefined): KubeFacts {
  if (!node) return { installed: true, isCp: false, isWorker: false, status: "not_ready" };
  const labels = node.metadata?.labels ?? {};
  const isCp = cpLabels.some((label) => label in labels);
  const dedicated = (node.spec?.taints ?? []).some(
    (t) => cpLabels.includes(t.key ?? "") && t.effect === "NoSchedule",
  );
  const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  const status = node.spec?.unschedulable ? "cordoned" : ready ? "ready" : "not_ready";
  return { installed: true, isCp, isWorker: !dedicated, status };
}

/**
 * The node's Kubernetes state from the API itself: one HTTPS GET with the node's own credentials
 * (no kubectl process), at most every `maxAgeMs`. An API that does not answer means not_ready,
 * never a stale Ready.
 */
export function createKubePort(
  paths: Paths,
  _exec?: Exec,
  options: { maxAgeMs?: number; get?: typeof getNodeOverHttps; now?: () => number } = {},
): KubePort {
  const maxAgeMs = options.maxAgeMs ?? 10_000;
  const get = options.get ?? getNodeOverHttps;
  const now = options.now ?? Date.now;
  let cached: { at: number; name: string; node: KubeNode | undefined } | undefined;

  const kubeconfig = () => kubeconfigs.map((p) => paths.onRoot(p)).find((p) => existsSync(p));
  async function node(nodeName: string): Promise<KubeNode | undefined> {
    if (cached && cached.name === nodeName && now() - cached.at < maxAgeMs) return cached.node;
    const file = kubeconfig();
    let fetched: KubeNode | undefined;
    if (file) {
      try {
        const credentials = credentialsFromKubeconfig(readFileSync(file, "utf8"), (p) =>
          readFileSync(paths.onRoot(p)),
        );
        fetched = await get(credentials, nodeName);
      } catch {
        fetched = undefined;
      }
    }
    cached = { at: now(), name: nodeName, node: fetched };
    return fetched;
  }

  return {
    async nodeIsReady(nodeName) {
      return factsOf(await node(nodeName)).status === "ready";
    },
    async facts(nodeName) {
      if (!kubeconfig()) return { installed: false, isCp: false, isWorker: false, status: "not_installed" };
      return factsOf(await node(nodeName));
    },
  };
}
