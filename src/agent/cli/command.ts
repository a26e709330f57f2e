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

/**
 * A parent command (`runos certificate`, `runos sync`, ...), created once however many of its
 * subcommands register. Run bare, it prints its help and exits 0 (spec 6.1).
 */
export function commandGroup(program: Command, name: string, description: string): Command {
  const existing = program.commands.find((c) => c.name() === name) as Command | undefined;
  if (existing) return existing;
  const group = program.command(name).description(description);
  group.action(() => group.help());
  return group;
}
