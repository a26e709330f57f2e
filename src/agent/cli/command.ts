import type { Command } from "commander";
import type { Logger } from "../../common/log.js";
import type { Paths } from "../host/paths.js";
import type { Io } from "./io.js";

export interface CommandContext {
  paths: Paths;
  log: Logger;
  io: Io;
  /** Aborted on SIGINT/SIGTERM/SIGHUP. */
  signal: AbortSignal;
}

/** What a command returns; main prints `human` or, with --json, `data`. */
export interface CommandOutput {
  data: unknown;
  human: string;
  /** 0 unless the command reports a degraded state without throwing. */
  exitCode?: number;
}

export interface CommandSpec {
  /** Adds the command (with its options) to the program and returns the leaf to bind. */
  define(program: Command): Command;
  run(options: Record<string, unknown>, args: string[], ctx: CommandContext): Promise<CommandOutput>;
  /** Long-running commands (agent, logs -f) print as they go and return no data. */
  streaming?: boolean;
}
