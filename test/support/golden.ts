import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** Compares with the file at `url`; `UPDATE_GOLDEN=1` rewrites the file instead. */
export function golden(url: URL, actual: string): void {
  const path = fileURLToPath(url);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  let expected: string;
  try {
    expected = readFileSync(path, "utf8");
  } catch {
    assert.fail(`${path} is missing (UPDATE_GOLDEN=1 writes it)`);
  }
  assert.equal(actual, expected, `${path} differs (UPDATE_GOLDEN=1 rewrites it)`);
}
