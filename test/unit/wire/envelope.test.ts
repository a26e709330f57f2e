import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeJsonB64,
  encodeJsonB64,
  envelope,
  errorEnvelope,
  NO_CONTENT_B64,
  newTag,
  noContent,
} from "../../../src/wire/envelope.js";

// Golden values: these bytes are the contract with the original control plane.
test("JSON payloads are standard padded base64", () => {
  assert.equal(encodeJsonB64({}), "e30=");
  assert.equal(encodeJsonB64({ asCp: true }), "eyJhc0NwIjp0cnVlfQ==");
  assert.equal(encodeJsonB64({ nodeIsReady: false }), "eyJub2RlSXNSZWFkeSI6ZmFsc2V9");
  // '+' and '/' alphabet, not URL-safe
  assert.equal(encodeJsonB64({ k: "\u00ff\u00fe>?" }), "eyJrIjoiw7/Dvj4/In0=");
});

test("NO_CONTENT is e30= with the instruction's tag", () => {
  const tag = newTag();
  assert.deepEqual(noContent(tag), { type: "NO_CONTENT", jsonB64: NO_CONTENT_B64, tag });
  assert.equal(NO_CONTENT_B64, "e30=");
});

test("ERROR carries raw text, not base64", () => {
  assert.deepEqual(errorEnvelope("t-1", "unknown instruction type: X"), {
    type: "ERROR",
    jsonB64: "unknown instruction type: X",
    tag: "t-1",
  });
});

test("tags are lowercase UUID v4 strings and are echoed verbatim", () => {
  const tag = newTag();
  assert.match(tag, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(envelope("NODE_STATUS", { nodeIsReady: true }, tag).tag, tag);
});

test("decoding is strict: URL-safe, unpadded, empty and non-JSON payloads are refused", () => {
  assert.deepEqual(decodeJsonB64("e30="), {});
  assert.throws(() => decodeJsonB64(""), /empty payload/);
  assert.throws(() => decodeJsonB64("e30"), /base64/);
  assert.throws(() => decodeJsonB64("eyJrIjoiw7_Dvj4_In0="), /base64/);
  assert.throws(() => decodeJsonB64(Buffer.from("{nope").toString("base64")), /not valid JSON/);
});
