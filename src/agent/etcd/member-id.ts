import { RunosError } from "../../common/errors.js";

/**
 * etcd member and cluster ids are unsigned 64-bit integers. `etcdctl -w json` prints them as bare
 * decimal numbers (beyond 2^53, so JSON.parse would round them), while its table output and its
 * `member remove`/`move-leader` arguments use hex. runos keeps them as lower-case hex strings
 * without leading zeros, exactly as etcdctl's table shows them.
 */
export type MemberId = string;

const maxUint64 = (1n << 64n) - 1n;

export function formatMemberId(value: bigint): MemberId {
  return value.toString(16);
}

/** A decimal or hex id as it came out of the lossless JSON parse (see parseJsonLossless). */
export function memberIdFromJson(value: unknown, what: string): MemberId {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0)
    return formatMemberId(BigInt(value));
  if (typeof value === "string" && /^\d+$/.test(value)) {
    const parsed = BigInt(value);
    if (parsed <= maxUint64) return formatMemberId(parsed);
  }
  throw new RunosError("NA_INVALID_INPUT", `etcdctl printed an invalid ${what}: ${JSON.stringify(value)}`);
}

/**
 * What a user typed: `0x`-prefixed or containing a-f is hex; digits only may be either (etcdctl's
 * table shows hex, its JSON decimal), so both readings are returned and the caller matches them
 * against the member list.
 */
export function memberIdCandidates(input: string): MemberId[] {
  const text = input.trim().toLowerCase();
  const invalid = () =>
    new RunosError("NA_INVALID_INPUT", `"${input}" is not an etcd member id`, {
      hint: "use the hex ID from `runos etcd list` (or the decimal id from etcdctl -w json)",
    });
  const hex = text.startsWith("0x") ? text.slice(2) : text;
  if (!/^[0-9a-f]{1,16}$/.test(hex)) {
    if (/^\d+$/.test(text)) return decimalOnly(text, invalid);
    throw invalid();
  }
  const fromHex = formatMemberId(BigInt(`0x${hex}`));
  if (text.startsWith("0x") || /[a-f]/.test(hex)) return [fromHex];
  const decimal = BigInt(text);
  const fromDecimal = decimal <= maxUint64 ? [formatMemberId(decimal)] : [];
  return [...new Set([fromHex, ...fromDecimal])];
}

function decimalOnly(text: string, invalid: () => RunosError): MemberId[] {
  const decimal = BigInt(text);
  if (decimal > maxUint64) throw invalid();
  return [formatMemberId(decimal)];
}

/** Decimal form, for logs and for matching etcd's JSON gateway. */
export function memberIdDecimal(id: MemberId): string {
  return BigInt(`0x${id}`).toString(10);
}

// A JSON string (skipped as a whole, so digits inside names are never touched) or a number literal.
const jsonToken = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * JSON.parse that keeps integers beyond 2^53 exact: each such integer literal becomes a decimal
 * string before parsing. Strings are matched first, so a number inside a member name stays as is.
 */
export function parseJsonLossless(text: string): unknown {
  const quoted = text.replace(jsonToken, (token) => {
    if (token.startsWith('"') || !/^-?\d+$/.test(token)) return token;
    return Number.isSafeInteger(Number(token)) ? token : `"${token}"`;
  });
  return JSON.parse(quoted);
}
