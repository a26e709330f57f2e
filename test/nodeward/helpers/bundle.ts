import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Of } from "../../../src/nodeward/bundles/bundle-store.js";
import { controlPlaneBundleFiles, nodeBundleFiles } from "../../../src/nodeward/recipes/kubernetes/list.js";

const bundleFiles = [...nodeBundleFiles, ...controlPlaneBundleFiles, "cni/bridge", "cni/host-local"];

/** A tiny but complete bundle directory (every file's content is its own name). */
export async function writeBundle(dir: string, version = "v1.34.4"): Promise<void> {
  const files: Record<string, string> = {};
  for (const f of bundleFiles) {
    mkdirSync(join(dir, f, ".."), { recursive: true });
    writeFileSync(join(dir, f), f);
    files[f] = await sha256Of(join(dir, f));
  }
  writeFileSync(
    join(dir, "bundle.json"),
    JSON.stringify({
      kubernetesVersion: version,
      components: { etcd: "v3.6.5" },
      images: ["registry.k8s.io/pause:3.10.1"],
      files,
    }),
  );
}
