import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

/** Keys whose values never reach a log line, at any depth we know of. */
export const redactedPaths = [
  "token",
  "*.token",
  "privateKey",
  "*.privateKey",
  "csr",
  "*.csr",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "adminToken",
];

export interface LogOptions {
  level?: string;
  /** Defaults to stderr. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

/**
 * JSON lines shaped like the original agent's log (`time` RFC 3339, upper-case `level`, `msg`),
 * so `runos logs` and existing log tooling read both.
 */
export function createLogger(options: LogOptions = {}): Logger {
  return pino(
    {
      level: normaliseLevel(options.level),
      base: options.base ?? null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label.toUpperCase() }) },
      redact: { paths: redactedPaths, censor: "[redacted]" },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

export function normaliseLevel(level: string | undefined): string {
  const wanted = (level ?? "").toLowerCase();
  return ["trace", "debug", "info", "warn", "error", "silent"].includes(wanted) ? wanted : "info";
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
