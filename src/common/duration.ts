import { RunosError } from "./errors.js";

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 24 * 3600 * 1000 };

/** `90d`, `1h`, `15m`, `30s`, `500ms`, or a bare number of seconds, to milliseconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  const unit = units[(match?.[2] ?? "s").toLowerCase()];
  if (!match || unit === undefined) {
    throw new RunosError("NA_USAGE", `invalid duration "${text}": use e.g. 90d, 1h, 15m, 30s or 500ms`);
  }
  const ms = Math.round(Number(match[1]) * unit);
  if (ms <= 0) throw new RunosError("NA_USAGE", `invalid duration "${text}": must be greater than zero`);
  return ms;
}
