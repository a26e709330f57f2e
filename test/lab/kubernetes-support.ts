// Helpers for the Kubernetes lab test: the netcheck workload and small kubectl wrappers.
import type { RunosLab } from "../../lab/runos-cluster.js";

/** A pod pinned to a node (tolerating the control-plane taint) running the lab's netcheck image. */
export function netcheckPod(
  name: string,
  node: string,
  args: string[],
  restart: "Never" | "Always" = "Always",
): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "netcheck", role: args[0] === "serve" ? "server" : "client" } },
    spec: {
      nodeName: node,
      restartPolicy: restart,
      tolerations: [{ operator: "Exists" }],
      containers: [
        {
          name: "netcheck",
          image: "runos.lab/netcheck:1",
          imagePullPolicy: "Never",
          command: ["/usr/local/bin/netcheck"],
          args,
        },
      ],
    },
  });
}

export async function apply(lab: RunosLab, on: string, manifest: string): Promise<void> {
  const result = await lab.kubectl(on, ["apply", "-f", "-"], { input: manifest });
  if (result.code !== 0) throw new Error(`kubectl apply on ${on}: ${result.stderr}`);
}

export async function podField(lab: RunosLab, on: string, pod: string, path: string): Promise<string> {
  const result = await lab.kubectl(on, ["get", "pod", pod, "-o", `jsonpath={${path}}`]);
  return result.code === 0 ? result.stdout.trim() : "";
}
