// nodeward's bundle store and installer endpoint on real files: verified imports, nothing left
// behind by a bad one, and only listed files served.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { classifyFailure } from "../../src/agent/install/classify.js";
import { silentLogger } from "../../src/common/log.js";
import { buildInstaller } from "../../src/nodeward/api/installer.js";
import { BundleStore } from "../../src/nodeward/bundles/bundle-store.js";
import { fetchVerified } from "../../src/nodeward/recipes/kubernetes/list.js";
import { writeBundle } from "./helpers/bundle.js";
import { tempDir } from "./helpers/nodeward.js";

describe("Kubernetes bundles", () => {
  let dir: { path: string; remove(): Promise<void> };
  before(async () => {
    dir = await tempDir("bundles-");
  });
  after(async () => dir.remove());

  test("a directory imports with every sha256 verified; list shows it; a re-import replaces it", async () => {
    const src = join(dir.path, "good");
    await writeBundle(src);
    const store = new BundleStore(join(dir.path, "data1"));
    const first = await store.import(src);
    assert.equal(first.manifest.kubernetesVersion, "v1.34.4");
    assert.equal(first.replaced, false);
    const [listed] = await store.list();
    assert.equal(listed?.kubernetesVersion, "v1.34.4");
    assert.equal(listed?.files, Object.keys(first.manifest.files).length);
    assert.ok((listed?.files ?? 0) > 10);
    assert.equal((await store.import(src)).replaced, true);
    assert.deepEqual(readdirSync(store.root), ["v1.34.4"]);
  });

  test("a tarball of the bundle directory imports the same", async () => {
    const src = join(dir.path, "tarred");
    await writeBundle(src);
    const tarball = join(dir.path, "bundle.tar.gz");
    execFileSync("tar", ["-czf", tarball, "-C", dir.path, "tarred"]);
    const store = new BundleStore(join(dir.path, "data2"));
    assert.equal((await store.import(tarball)).manifest.kubernetesVersion, "v1.34.4");
  });

  for (const [why, spoil, message] of [
    [
      "a file with one wrong byte",
      (src: string) => writeFileSync(join(src, "bin/kubelet"), "bin/kubeleT"),
      /checksum mismatch for bin\/kubelet/,
    ],
    [
      "a listed file missing",
      (src: string) => execFileSync("rm", [join(src, "bin/runc")]),
      /bin\/runc, which is missing/,
    ],
    [
      "a manifest naming a path outside the bundle",
      (src: string) =>
        writeFileSync(
          join(src, "bundle.json"),
          JSON.stringify({
            kubernetesVersion: "v1.34.4",
            images: [],
            files: { "../../etc/passwd": "a".repeat(64) },
          }),
        ),
      /bundle\.json: files/,
    ],
    [
      "a manifest that is not JSON",
      (src: string) => writeFileSync(join(src, "bundle.json"), "{"),
      /not JSON/,
    ],
    [
      "a bad version",
      (src: string) =>
        writeFileSync(
          join(src, "bundle.json"),
          JSON.stringify({
            kubernetesVersion: "latest; rm -rf /",
            images: [],
            files: { "bin/x": "a".repeat(64) },
          }),
        ),
      /Kubernetes version/,
    ],
  ] as const) {
    test(`${why} is refused and leaves nothing behind`, async () => {
      const src = join(dir.path, `bad-${why.replace(/\W+/g, "-")}`);
      await writeBundle(src);
      spoil(src);
      const store = new BundleStore(join(dir.path, `data-${why.replace(/\W+/g, "-")}`));
      await assert.rejects(store.import(src), message);
      assert.deepEqual(existsSync(store.root) ? readdirSync(store.root) : [], []);
    });
  }

  test("the installer serves listed files with their sha256 and nothing else", async () => {
    const src = join(dir.path, "served");
    await writeBundle(src);
    const store = new BundleStore(join(dir.path, "data3"));
    await store.import(src);
    const app = buildInstaller({ bundles: store, log: silentLogger() });
    const ok = await app.inject({ url: "/bundles/v1.34.4/bin/kubeadm" });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.body, "bin/kubeadm");
    assert.match(ok.headers["x-runos-sha256"] as string, /^[a-f0-9]{64}$/);
    for (const url of [
      "/bundles/v1.34.4/bundle.json",
      "/bundles/v1.34.4/bin/..%2f..%2fbundle.json",
      "/bundles/v9.9.9/bin/kubeadm",
      "/bundles/x/bin/kubeadm",
    ]) {
      const res = await app.inject({ url });
      assert.ok([400, 404].includes(res.statusCode), `${url}: ${res.statusCode}`);
    }
    await app.close();
  });
});

describe("a node's bundle download (the install list's own shell step, real sh and curl on loopback)", () => {
  let dir: { path: string; remove(): Promise<void> };
  let app: ReturnType<typeof buildInstaller>;
  let base = "";
  before(async () => {
    dir = await tempDir("bundle-fetch-");
    const src = join(dir.path, "src");
    await writeBundle(src);
    const store = new BundleStore(join(dir.path, "data"));
    await store.import(src);
    app = buildInstaller({ bundles: store, log: silentLogger() });
    base = `${await app.listen({ host: "127.0.0.1", port: 0 })}/bundles/v1.34.4`;
  });
  after(async () => {
    await app.close();
    await dir.remove();
  });
  // Asynchronous: the installer answering curl runs in this very process.
  const run = (command: string) =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn("/bin/sh", ["-c", command], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on("close", (status) => resolve({ status, stderr }));
    });

  test("the right sum: the file lands; a second run fetches nothing", async () => {
    const sum = (await new BundleStore(join(dir.path, "data")).manifest("v1.34.4")).files[
      "bin/kubeadm"
    ] as string;
    const stage = join(dir.path, "stage-ok");
    const first = await run(fetchVerified(base, "bin/kubeadm", sum, stage));
    assert.equal(first.status, 0, first.stderr);
    assert.equal(readFileSync(join(stage, "bin/kubeadm"), "utf8"), "bin/kubeadm");
    await app.close(); // nothing to fetch from any more: the kept file must be enough
    assert.equal((await run(fetchVerified(base, "bin/kubeadm", sum, stage))).status, 0);
    app = buildInstaller({ bundles: new BundleStore(join(dir.path, "data")), log: silentLogger() });
    base = `${await app.listen({ host: "127.0.0.1", port: Number(new URL(base).port) })}/bundles/v1.34.4`;
  });

  test("a wrong sum: exit 1 with runos' checksum message (NA_CHECKSUM), and nothing left in place", async () => {
    const stage = join(dir.path, "stage-bad");
    const result = await run(fetchVerified(base, "bin/kubelet", "f".repeat(64), stage));
    assert.equal(result.status, 1);
    assert.equal(classifyFailure("fetch", result.stderr).code, "NA_CHECKSUM");
    assert.ok(!existsSync(join(stage, "bin/kubelet")));
    assert.ok(!existsSync(join(stage, "bin/kubelet.part")));
  });
});
