import { describeCode, type RunosError } from "../../common/errors.js";

/** The only path to the terminal: commands return data, main prints through this. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Colour only when both streams are terminals and NO_COLOR is unset. */
  color: boolean;
  isTty: boolean;
}

export function processIo(): Io {
  const isTty = Boolean(process.stdout.isTTY && process.stderr.isTTY);
  return {
    out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
    color: isTty && !process.env.NO_COLOR,
    isTty,
  };
}

export function paint(io: Io, code: number, text: string): string {
  return io.color ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export const red = (io: Io, t: string) => paint(io, 31, t);
export const green = (io: Io, t: string) => paint(io, 32, t);
export const yellow = (io: Io, t: string) => paint(io, 33, t);
export const dim = (io: Io, t: string) => paint(io, 2, t);

/** The one failure block: what failed, why, what to do, and where the full log is. */
export function failureBlock(io: Io, err: RunosError, logFile: string): string {
  const lines = ["", red(io, `✗ FAILED: ${err.message}`), `  Code:  ${err.code} (${describeCode(err.code)})`];
  if (err.hint) lines.push(`  Try:   ${err.hint}`);
  lines.push(`  Full log: ${logFile}`);
  if (!err.userFixable)
    lines.push("  This looks like a bug in runos; please report it with the output above.");
  return lines.join("\n");
}

export function jsonError(err: RunosError): string {
  return JSON.stringify({ error: { code: err.code, message: err.message, hint: err.hint ?? null } }, null, 2);
}
