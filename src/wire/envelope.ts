import { randomUUID } from "node:crypto";
import { RunosError } from "../common/errors.js";

/** One message on NodeAgentStream, either direction (spec 2.3). */
export interface Envelope {
  type: string;
  jsonB64: string;
  tag: string;
}

export const NO_CONTENT_B64 = "e30=";
export const ERROR_TYPE = "ERROR";

const strictBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A payload already serialised to JSON: sent as is, so a large one is stringified only once. */
export class JsonText {
  constructor(readonly text: string) {}
}

/** Standard, padded base64 of the JSON text. */
export function encodeJsonB64(value: unknown): string {
  const text = value instanceof JsonText ? value.text : JSON.stringify(value ?? null);
  return Buffer.from(text, "utf8").toString("base64");
}

/** Strict standard base64 then JSON; a clear error for either failure. */
export function decodeJsonB64(jsonB64: string): unknown {
  if (jsonB64 === "") throw new RunosError("NA_INVALID_INPUT", "empty payload: expected base64-encoded JSON");
  if (!strictBase64.test(jsonB64)) {
    throw new RunosError("NA_INVALID_INPUT", "payload is not standard padded base64");
  }
  const text = Buffer.from(jsonB64, "base64").toString("utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RunosError("NA_INVALID_INPUT", `payload is not valid JSON: ${(err as Error).message}`);
  }
}

export function newTag(): string {
  return randomUUID();
}

export function envelope(type: string, payload: unknown, tag: string = newTag()): Envelope {
  return { type, jsonB64: encodeJsonB64(payload), tag };
}

/** ERROR carries raw text, not base64 (a quirk of the original contract, kept for compatibility). */
export function errorEnvelope(tag: string, message: string): Envelope {
  return { type: ERROR_TYPE, jsonB64: message, tag };
}

export function noContent(tag: string): Envelope {
  return { type: "NO_CONTENT", jsonB64: NO_CONTENT_B64, tag };
}
