import { resolve } from "node:path";
import { BundleStore } from "../bundles/bundle-store.js";
import type { CommandResult } from "./io.js";

/** `nodeward bundle import DIR|TARBALL`: verified, then moved into the data dir whole. */
export async function bundleImport(source: string, options: { dataDir: string }): Promise<CommandResult> {
  const store = new BundleStore(options.dataDir);
  const { manifest, replaced } = await store.import(resolve(source));
  const files = Object.keys(manifest.files).length;
  return {
    data: { kubernetesVersion: manifest.kubernetesVersion, files, replaced, components: manifest.components },
    human: `Kubernetes ${manifest.kubernetesVersion} bundle ${replaced ? "re-imported" : "imported"}: ${files} files, every sha256 verified.`,
  };
}

/** `nodeward bundle list`: the imported bundles, newest last. */
export async function bundleList(options: { dataDir: string }): Promise<CommandResult> {
  const bundles = await new BundleStore(options.dataDir).list();
  const lines = bundles.map(
    (b) =>
      `${b.kubernetesVersion.padEnd(10)} ${String(b.files).padStart(3)} files ${(b.bytes / 1024 / 1024).toFixed(0).padStart(6)} MiB  ${Object.entries(
        b.components,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
  );
  return {
    data: bundles,
    human: bundles.length ? lines.join("\n") : "no Kubernetes bundle imported (nodeward bundle import DIR)",
  };
}
