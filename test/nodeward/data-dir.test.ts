import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { silentLogger } from "../../src/common/log.js";
import { parseDuration, resolveConfig } from "../../src/nodeward/config.js";
import { dataDirPaths, prepareDataDir } from "../../src/nodeward/data-dir.js";
import { tempDir } from "./helpers/nodeward.js";

const mode = async (path: string) => (await stat(path)).mode & 0o777;

test("first start creates CA, server chain, admin token and database with tight modes", async () => {
  const dir = await tempDir();
  try {
    const prepared = await prepareDataDir(
      dir.path,
      resolveConfig({ dataDir: dir.path, hosts: ["nw.lab"] }).hosts,
      Date.now(),
      silentLogger(),
    );
    const paths = dataDirPaths(dir.path);
    assert.equal(await mode(paths.caKey), 0o600);
    assert.equal(await mode(paths.caCert), 0o644);
    assert.equal(await mode(paths.serverKey), 0o600);
    assert.equal(await mode(paths.adminToken), 0o600);
    assert.match(prepared.adminToken, /^[A-Za-z0-9_-]{43}$/);
    const chain = await readFile(paths.serverCert, "utf8");
    const blocks = chain.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    assert.equal(blocks.length, 2, "leaf then CA");
    const leaf = new X509Certificate(chain);
    assert.match(leaf.subjectAltName ?? "", /DNS:nw\.lab/);
    assert.match(leaf.subjectAltName ?? "", /DNS:localhost/);
    assert.match(leaf.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
    assert.ok(chain.trimEnd().endsWith(prepared.caCertPem.trimEnd()));
  } finally {
    await dir.remove();
  }
});

test("restart keeps everything; a changed host list reissues only the server certificate", async () => {
  const dir = await tempDir();
  try {
    const log = silentLogger();
    const hosts = (list: string[]) => resolveConfig({ dataDir: dir.path, hosts: list }).hosts;
    const first = await prepareDataDir(dir.path, hosts(["a.lab"]), Date.now(), log);
    const again = await prepareDataDir(dir.path, hosts(["a.lab"]), Date.now(), log);
    assert.equal(again.caCertPem, first.caCertPem);
    assert.equal(again.serverCert.chainPem, first.serverCert.chainPem);
    assert.equal(again.adminToken, first.adminToken);
    const changed = await prepareDataDir(dir.path, hosts(["b.lab"]), Date.now(), log);
    assert.equal(changed.caCertPem, first.caCertPem);
    assert.notEqual(changed.serverCert.chainPem, first.serverCert.chainPem);
    assert.match(new X509Certificate(changed.serverCert.chainPem).subjectAltName ?? "", /DNS:b\.lab/);
    const later = await prepareDataDir(dir.path, hosts(["b.lab"]), Date.now() + 340 * 24 * 3600 * 1000, log);
    assert.notEqual(later.serverCert.chainPem, changed.serverCert.chainPem, "reissued near expiry");
  } finally {
    await dir.remove();
  }
});

test("a CA with its key missing is an error, never silently replaced", async () => {
  const dir = await tempDir();
  try {
    await prepareDataDir(dir.path, ["localhost"], Date.now(), silentLogger());
    await rm(join(dir.path, "ca.key"));
    await assert.rejects(
      prepareDataDir(dir.path, ["localhost"], Date.now(), silentLogger()),
      /ca\.key is missing/,
    );
  } finally {
    await dir.remove();
  }
});

test("durations", () => {
  assert.equal(parseDuration("90d"), 90 * 24 * 3600 * 1000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("15m"), 900_000);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("30"), 30_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.throws(() => parseDuration("soon"), /invalid duration/);
  assert.throws(() => parseDuration("0s"), /greater than zero/);
});
