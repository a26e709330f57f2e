import type { Logger } from "../../common/log.js";
import type { Io } from "../cli/io.js";
import { dim, green, yellow } from "../cli/io.js";
import type { L2Client } from "../link/clients.js";
import { sendNodelog } from "../link/nodelog.js";
import type { InstallReporter } from "./run-list.js";

/**
 * Reports install progress to the terminal (a redrawn bar on a TTY, timestamped lines otherwise)
 * and to the control plane (UpdateStatus and node logs, best effort).
 */
export function createInstallReporter(
  io: Io,
  client: L2Client,
  log: Logger,
  quiet: boolean,
): InstallReporter {
  let percent = 0;
  const stamp = () => new Date().toISOString().slice(11, 19);
  const line = (symbol: string, text: string) => {
    if (io.isTty) io.err("\r\u001b[2K");
    io.err(`${dim(io, stamp())} ${symbol} ${text}`);
  };
  const bar = (command: string) => {
    if (!io.isTty || quiet) return;
    const filled = Math.round((percent / 100) * 30);
    const shown = command.length > 120 ? `${command.slice(0, 117)}...` : command;
    process.stderr.write(`\r\u001b[2K[${"#".repeat(filled)}${".".repeat(30 - filled)}] ${percent}% ${shown}`);
  };
  return {
    step(index, total, command) {
      if (!io.isTty && !quiet) line("ℹ", `[${index + 1}/${total}] ${command}`);
      bar(command);
    },
    async status(text) {
      if (!quiet) line("ℹ", text.replaceAll("_", " "));
      try {
        await client.updateStatus({ status: text }, { deadlineMs: 30_000 });
      } catch (err) {
        log.warn({ err: (err as Error).message }, "status update not delivered");
      }
    },
    progress(value) {
      percent = value;
    },
    async warning(text) {
      line(yellow(io, "⚠"), text);
      await sendNodelog(client, { type: "NodeInstallationWarning", severity: 2, message: text }, log);
    },
    async failure({ severity, message, classification }) {
      line(severity === 1 ? "✗" : yellow(io, "⚠"), `${classification.code}: ${classification.cause}`);
      await sendNodelog(
        client,
        {
          type: severity === 1 ? "NodeInstallationFailure" : "NodeInstallationWarning",
          severity,
          message,
          code: classification.code,
          cause: classification.cause,
          remedy: classification.remedy,
        },
        log,
      );
    },
  };
}

export function doneLine(io: Io, text: string): string {
  return `${green(io, "✓")} ${text}`;
}
