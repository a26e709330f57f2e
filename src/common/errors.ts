import { type ErrorCode, errorCodes } from "./error-codes.js";

const brand = Symbol.for("runos.RunosError");

export interface RunosErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
  /** False for bugs: the CLI then adds a "please report" note. */
  userFixable?: boolean;
}

/** The one error type that crosses module boundaries. Checked by brand, not instanceof. */
export class RunosError extends Error {
  readonly [brand] = true;
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly userFixable: boolean;

  constructor(code: ErrorCode, message: string, options: RunosErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RunosError";
    this.code = code;
    this.hint = options.hint;
    this.userFixable = options.userFixable ?? code !== "NA_INTERNAL";
  }
}

export function isRunosError(value: unknown): value is RunosError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** Normalises anything thrown into a RunosError, keeping the original as cause. */
export function toRunosError(value: unknown, fallback: ErrorCode = "NA_INTERNAL"): RunosError {
  if (isRunosError(value)) return value;
  return new RunosError(fallback, errorMessage(value), { cause: value });
}

export function errorMessage(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function describeCode(code: ErrorCode): string {
  return errorCodes[code];
}
