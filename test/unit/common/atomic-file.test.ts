import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeFileAtomic } from "../../../src/common/atomic-file.js";

test("writes with the requested mode, replaces atomically and leaves no temp files", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runos-atomic-"));
  const file = join(dir, "sub", "key.pem");
  await writeFileAtomic(file, "one", { mode: 0o600 });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  await writeFileAtomic(file, "two", { mode: 0o600 });
  assert.equal(readFileSync(file, "utf8"), "two");
  assert.deepEqual(readdirSync(join(dir, "sub")), ["key.pem"]);
});

test("tightens a pre-existing world-readable file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runos-atomic-"));
  const file = join(dir, "k");
  writeFileSync(file, "x", { mode: 0o644 });
  await writeFileAtomic(file, "y", { mode: 0o600 });
  assert.equal(statSync(file).mode & 0o777, 0o600);
});
