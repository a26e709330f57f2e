import { RunosError } from "../../common/errors.js";

/**
 * The part of a systemd service unit the agent honours when it runs a service itself (machines
 * where systemd is not PID 1): one definition serves both ways, so the install list writes real
 * units and never a second, drifting description.
 */
export interface ServiceUnit {
  execStart: string[];
  environment: Record<string, string>;
  /** EnvironmentFile= entries in order; `optional` ones may be missing (the `-` prefix). */
  environmentFiles: { path: string; optional: boolean }[];
  restart: "always" | "on-failure" | "no";
  restartSec: number;
  /** [Unit] ConditionPathExists=: the service starts only while these exist. */
  conditionPaths: string[];
}

const supportedRestart = new Set(["always", "on-failure", "no"]);

/** Reads the unit and its drop-ins (already sorted by name), later files overriding earlier ones. */
export function parseServiceUnit(name: string, texts: readonly string[]): ServiceUnit {
  let execStart: string | undefined;
  const environment: Record<string, string> = {};
  const environmentFiles: ServiceUnit["environmentFiles"] = [];
  let restart: ServiceUnit["restart"] = "no";
  let restartSec = 0.1;
  const conditionPaths: string[] = [];
  for (const text of texts) {
    let section = "";
    for (const raw of joinContinuations(text)) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
      const header = /^\[(.+)\]$/.exec(line);
      if (header) {
        section = header[1] ?? "";
        continue;
      }
      const eq = line.indexOf("=");
      if (eq < 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      if (section === "Unit" && key === "ConditionPathExists") {
        if (value === "") conditionPaths.length = 0;
        else if (value.startsWith("!"))
          throw new RunosError(
            "NA_INVALID_INPUT",
            `${name}: negated ConditionPathExists= is not supported here`,
          );
        else conditionPaths.push(value);
        continue;
      }
      if (section !== "Service") continue;
      switch (key) {
        case "ExecStart":
          // An empty assignment resets the list (how drop-ins replace the command).
          execStart = value === "" ? undefined : value;
          break;
        case "Environment":
          for (const word of splitWords(value)) {
            const at = word.indexOf("=");
            if (at > 0) environment[word.slice(0, at)] = word.slice(at + 1);
          }
          break;
        case "EnvironmentFile":
          if (value === "") environmentFiles.length = 0;
          else
            environmentFiles.push(
              value.startsWith("-")
                ? { path: value.slice(1), optional: true }
                : { path: value, optional: false },
            );
          break;
        case "Restart":
          if (!supportedRestart.has(value))
            throw new RunosError("NA_INVALID_INPUT", `${name}: Restart=${value} is not supported here`);
          restart = value as ServiceUnit["restart"];
          break;
        case "RestartSec": {
          const seconds = Number(value.replace(/s$/, ""));
          if (!Number.isFinite(seconds) || seconds < 0)
            throw new RunosError(
              "NA_INVALID_INPUT",
              `${name}: RestartSec=${value} is not a number of seconds`,
            );
          restartSec = seconds;
          break;
        }
      }
    }
  }
  if (!execStart) throw new RunosError("NA_INVALID_INPUT", `${name}: the unit has no ExecStart=`);
  return {
    execStart: splitWords(execStart.replace(/^[-@:+!]+/, "")),
    environment,
    environmentFiles,
    restart,
    restartSec,
    conditionPaths,
  };
}

/** KEY=VALUE lines of an EnvironmentFile (comments and blank lines skipped, quotes removed). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of joinContinuations(text)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const at = line.indexOf("=");
    if (at <= 0) continue;
    const key = line.slice(0, at).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) continue;
    env[key] = splitWords(line.slice(at + 1).trim()).join(" ");
  }
  return env;
}

/**
 * systemd's expansion of ExecStart: a word that is exactly `$NAME` becomes the variable's words
 * (split at white space, nothing when empty or unset); `${NAME}` inside a word is replaced as is.
 */
export function expandCommand(argv: readonly string[], env: Record<string, string>): string[] {
  const out: string[] = [];
  for (const word of argv) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) {
      out.push(...(env[whole[1] ?? ""] ?? "").split(/\s+/).filter((w) => w !== ""));
      continue;
    }
    out.push(word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, key: string) => env[key] ?? ""));
  }
  return out;
}

function joinContinuations(text: string): string[] {
  return text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
}

/** Splits at white space outside single or double quotes, removing the quotes. */
export function splitWords(value: string): string[] {
  const words: string[] = [];
  let current = "";
  let quote: '"' | "'" | undefined;
  let inWord = false;
  for (const ch of value) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new RunosError("NA_INVALID_INPUT", `unbalanced quote in ${JSON.stringify(value)}`);
  if (inWord) words.push(current);
  return words;
}
