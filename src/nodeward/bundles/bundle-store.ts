import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { errorMessage, RunosError } from "../../common/errors.js";
import { BundleManifest, bundleFile, kubernetesVersion } from "./manifest.js";

const execFileAsync = promisify(execFile);

export interface BundleSummary {
  kubernetesVersion: string;
  components: Record<string, string>;
  files: number;
  bytes: number;
}

/** Kubernetes bundles under `<data dir>/bundles/<version>/`, each with its verified bundle.json. */
export class BundleStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, "bundles");
  }

  async list(): Promise<BundleSummary[]> {
    if (!existsSync(this.root)) return [];
    const out: BundleSummary[] = [];
    for (const name of (await readdir(this.root)).sort()) {
      if (!kubernetesVersion.test(name)) continue;
      const manifest = await this.manifest(name).catch(() => undefined);
      if (!manifest) continue;
      let bytes = 0;
      for (const file of Object.keys(manifest.files)) bytes += (await stat(join(this.root, name, file))).size;
      out.push({
        kubernetesVersion: name,
        components: manifest.components,
        files: Object.keys(manifest.files).length,
        bytes,
      });
    }
    return out;
  }

  /** The newest imported version (by semver), if any. */
  async latest(): Promise<BundleManifest | undefined> {
    const versions = (await this.list()).map((b) => b.kubernetesVersion);
    versions.sort((a, b) => compareVersions(b, a));
    return versions[0] ? this.manifest(versions[0]) : undefined;
  }

  async manifest(version: string): Promise<BundleManifest> {
    if (!kubernetesVersion.test(version))
      throw new RunosError("NA_INVALID_INPUT", `"${version}" is not a Kubernetes version`);
    let text: string;
    try {
      text = await readFile(join(this.root, version, "bundle.json"), "utf8");
    } catch {
      throw new RunosError("NA_NOT_FOUND", `no Kubernetes ${version} bundle (nodeward bundle import DIR)`);
    }
    return parseManifest(text);
  }

  /** The path of one listed file of an imported bundle; anything not in its bundle.json is refused. */
  async filePath(version: string, file: string): Promise<{ path: string; size: number; sha256: string }> {
    const manifest = await this.manifest(version);
    const sha256 = bundleFile.test(file) ? manifest.files[file] : undefined;
    if (!sha256) throw new RunosError("NA_NOT_FOUND", `the ${version} bundle has no file ${file}`);
    const path = join(this.root, version, file);
    return { path, size: (await stat(path)).size, sha256 };
  }

  /**
   * Imports a bundle directory or tarball: checks bundle.json, copies (or hard-links) every file
   * into a staging directory, verifies each sha256 there, then renames it into place. A bundle
   * that fails any check leaves nothing behind, and a bundle already imported is replaced whole.
   */
  async import(source: string): Promise<{ manifest: BundleManifest; replaced: boolean }> {
    await mkdir(this.root, { recursive: true, mode: 0o755 });
    const staging = join(this.root, `.import-${randomBytes(6).toString("hex")}`);
    await mkdir(staging, { mode: 0o755 });
    try {
      const dir = await this.unpack(source, staging);
      const manifest = parseManifest(
        await readFile(join(dir, "bundle.json"), "utf8").catch(() => {
          throw new RunosError("NA_INVALID_INPUT", `${source} has no bundle.json`);
        }),
      );
      const target = join(staging, "bundle");
      if (dir !== target) {
        for (const file of Object.keys(manifest.files)) {
          await mkdir(join(target, file, ".."), { recursive: true });
          const from = join(dir, file);
          if (!existsSync(from))
            throw new RunosError("NA_NOT_FOUND", `the bundle lists ${file}, which is missing from ${source}`);
          await link(from, join(target, file)).catch(() => copyFile(from, join(target, file)));
        }
        await copyFile(join(dir, "bundle.json"), join(target, "bundle.json"));
      }
      for (const [file, expected] of Object.entries(manifest.files)) {
        const actual = await sha256Of(join(target, file)).catch(() => {
          throw new RunosError("NA_NOT_FOUND", `the bundle lists ${file}, which is missing from ${source}`);
        });
        if (actual !== expected)
          throw new RunosError(
            "NA_INVALID_INPUT",
            `checksum mismatch for ${file}: bundle.json says ${expected}, the file is ${actual}`,
          );
      }
      const final = join(this.root, manifest.kubernetesVersion);
      const replaced = existsSync(final);
      const old = `${final}.old-${randomBytes(4).toString("hex")}`;
      if (replaced) await rename(final, old);
      await rename(target, final);
      if (replaced) await rm(old, { recursive: true, force: true });
      return { manifest, replaced };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  private async unpack(source: string, staging: string): Promise<string> {
    const info = await stat(source).catch(() => {
      throw new RunosError("NA_NOT_FOUND", `${source} does not exist`);
    });
    if (info.isDirectory()) return source;
    if (!/\.(tar|tar\.gz|tgz)$/.test(source))
      throw new RunosError(
        "NA_INVALID_INPUT",
        `${source} is neither a directory nor a .tar, .tar.gz or .tgz file`,
      );
    const into = join(staging, "bundle");
    await mkdir(into);
    // argv only; GNU tar strips leading slashes and skips members with "..", so nothing lands outside `into`.
    await execFileAsync("tar", ["-xf", source, "-C", into, "--no-same-owner"], {
      maxBuffer: 1024 * 1024,
    }).catch((err: unknown) => {
      throw new RunosError("NA_INVALID_INPUT", `cannot unpack ${source}: ${errorMessage(err)}`);
    });
    // A tarball of the bundle directory itself has one top-level folder.
    if (!existsSync(join(into, "bundle.json"))) {
      const entries = await readdir(into);
      if (entries.length === 1 && entries[0] && existsSync(join(into, entries[0], "bundle.json"))) {
        await rename(join(into, entries[0]), `${into}.top`);
        await rm(into, { recursive: true });
        await rename(`${into}.top`, into);
      }
    }
    return into;
  }
}

function parseManifest(text: string): BundleManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RunosError("NA_INVALID_INPUT", `bundle.json is not JSON: ${errorMessage(err)}`);
  }
  const parsed = BundleManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RunosError(
      "NA_INVALID_INPUT",
      `bundle.json: ${issue?.path.join(".") || "(top)"}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, "").split(".").map(Number);
  const pb = b.replace(/^v/, "").split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
