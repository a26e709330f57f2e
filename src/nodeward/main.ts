import { realpathSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { CommanderError } from "commander";
import { describeCode, isRunosError, toRunosError } from "../common/errors.js";
import { type CliIo, colours, processIo } from "./cli/io.js";
import { buildProgram, type Outcome } from "./cli/program.js";

/**
 * The nodeward CLI. Returns the exit code; the only place that prints results and failures:
 * data on stdout (one JSON document with --json), diagnostics on stderr.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const outcome: Outcome = { json: false };
  const program = buildProgram(io, outcome);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // commander already printed usage or help
    outcome.error = err;
  }
  if (outcome.error !== undefined) return printFailure(outcome.error, outcome.json, io);
  const result = outcome.result;
  if (!result) return 0;
  if (outcome.json) io.stdout.write(`${JSON.stringify(result.data, null, 2)}\n`);
  else if (result.human) (result.exitCode ? io.stderr : io.stdout).write(`${result.human}\n`);
  return result.exitCode ?? 0;
}

function printFailure(err: unknown, json: boolean, io: CliIo): number {
  const error = toRunosError(err);
  if (json) {
    const body = { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
    io.stdout.write(`${JSON.stringify({ error: body }, null, 2)}\n`);
    return 1;
  }
  const c = colours(io.stderr, io.env);
  const lines = [`${c.red("✖")} [${error.code}] ${error.message}`];
  if (error.hint) lines.push(`  fix: ${error.hint}`);
  if (!error.userFixable) {
    lines.push(`  ${describeCode(error.code)} Please report it with the command you ran.`);
    if (!isRunosError(err) && err instanceof Error && err.stack) lines.push(c.dim(err.stack));
  }
  io.stderr.write(`${lines.join("\n")}\n`);
  return 1;
}

/** True when this module is the program being run (directly, or through the bin/nodeward.js shim). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    if (realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))) return true;
  } catch {
    return false;
  }
  return ["nodeward", "nodeward.js"].includes(basename(script));
}

let ran = false;

/** Runs the CLI on the real process, once (the bin shim may call it after the import already did). */
export async function runMain(): Promise<void> {
  if (ran) return;
  ran = true;
  process.exitCode = await main(process.argv.slice(2), processIo());
}

if (isEntryPoint()) await runMain();
