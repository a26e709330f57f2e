import * as z from "zod";

export const bundleFile = /^(bin|cni|images)\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const kubernetesVersion = /^v1\.\d{1,3}\.\d{1,3}$/;

/** bundle.json: what a Kubernetes bundle holds and the sha256 of each file (lab/kubernetes/build-bundle.sh). */
export const BundleManifest = z.object({
  kubernetesVersion: z.string().regex(kubernetesVersion, "a Kubernetes version like v1.34.4"),
  components: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,31}$/), z.string().max(64)).default({}),
  images: z.array(z.string().regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+:[A-Za-z0-9._-]{1,128}$/)).max(64),
  files: z
    .record(
      z.string().regex(bundleFile, "a file under bin/, cni/ or images/"),
      z.string().regex(/^[a-f0-9]{64}$/, "a sha256"),
    )
    .refine((files) => Object.keys(files).length > 0, "the bundle lists no files")
    .refine((files) => Object.keys(files).length <= 256, "the bundle lists more than 256 files"),
});
export type BundleManifest = z.infer<typeof BundleManifest>;

/** The pause image kubeadm's sandboxes use, from the bundle's image list. */
export function pauseImageOf(manifest: BundleManifest): string | undefined {
  return manifest.images.find((ref) => /\/pause:/.test(ref));
}
