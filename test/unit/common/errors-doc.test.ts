import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { errorCodes } from "../../../src/common/error-codes.js";

test("docs/errors.md has exactly one row per error code", () => {
  const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
  const documented = [...doc.matchAll(/^\|\s*`(NA_[A-Z_]+)`\s*\|/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), Object.keys(errorCodes).sort());
  assert.equal(new Set(documented).size, documented.length, "a code is documented twice");
});
