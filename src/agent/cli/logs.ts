import { open, readFile, stat } from "node:fs/promises";
import { sleep } from "../../common/clock.js";
import { RunosError } from "../../common/errors.js";
import type { CommandSpec } from "./command.js";
import { dim, type Io, paint } from "./io.js";

const levelColours: Record<string, number> = { INFO: 36, WARN: 33, ERROR: 31, DEBUG: 35 };

/** One log line for people: time, short tag, level, message and the remaining fields. */
export function prettyLogLine(io: Io, line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return dim(io, line);
  }
  const { time, level, msg, tag, ...rest } = record;
  const date = new Date(String(time));
  const clock = Number.isNaN(date.getTime()) ? String(time) : date.toISOString().slice(11, 23);
  const lvl = String(level ?? "").replace("WARNING", "WARN");
  const tagText = typeof tag === "string" ? ` [${tag.slice(0, 8)}]` : "          ";
  const fields = Object.keys(rest).length > 0 ? ` ${dim(io, JSON.stringify(rest))}` : "";
  return `${dim(io, clock)}${tagText} ${paint(io, levelColours[lvl] ?? 0, lvl.padEnd(5))} ${String(msg ?? "")}${fields}`;
}

export const logsCommand: CommandSpec = {
  define: (program) =>
    program
      .command("logs")
      .description("Show the agent's log")
      .option("-f, --follow", "keep printing new lines")
      .option("-n, --lines <n>", "how many lines", "50")
      .option("--json", "raw JSON lines")
      .option("--raw", "same as --json"),
  streaming: true,
  async run(options, _args, ctx) {
    const count = Number(options.lines);
    if (!Number.isInteger(count) || count < 1)
      throw new RunosError("NA_USAGE", "--lines must be a whole number >= 1");
    const raw = Boolean(options.json || options.raw);
    const file = ctx.paths.logFile;
    const text = await readFile(file, "utf8").catch(() => {
      throw new RunosError("NA_NOT_FOUND", `no log file at ${file}`, {
        hint: "the file appears once the agent has run",
      });
    });
    const show = (line: string) => ctx.io.out(raw ? line : prettyLogLine(ctx.io, line));
    for (const line of text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .slice(-count))
      show(line);
    if (options.follow) await follow(file, Buffer.byteLength(text), show, ctx.io, ctx.signal);
    return { data: null, human: "" };
  },
};

async function follow(
  file: string,
  from: number,
  show: (line: string) => void,
  io: Io,
  signal: AbortSignal,
): Promise<void> {
  let offset = from;
  let partial = "";
  while (!signal.aborted) {
    await sleep(100, signal);
    const size = await stat(file)
      .then((s) => s.size)
      .catch(() => 0);
    if (size < offset) {
      io.err("--- Log file rotated, reopening ---");
      offset = 0;
    }
    if (size === offset) continue;
    const handle = await open(file, "r");
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    await handle.close();
    offset = size;
    const lines = (partial + buffer.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) show(line);
  }
}
