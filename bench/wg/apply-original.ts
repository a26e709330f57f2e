/**
 * Runs INSIDE the lab host: node --import tsx bench/wg/apply-original.ts JOB.json
 * The original agent's way: one process per peer (`wg set wg0 peer K allowed-ips ... endpoint ...
 * persistent-keepalive N`), strictly one after the other, each started with the agent's own exec
 * (src/agent/host/exec.ts: argv, own process group, piped stdio) and checked for exit 0. Times the
 * whole loop; prints an OriginalReport as one JSON line.
 */
import { performance } from "node:perf_hooks";
import { checkExec, execArgv } from "../../src/agent/host/exec.js";
import { type OriginalJob, type OriginalReport, readJob } from "./jobs.js";

const startupMs = performance.now();

async function main(): Promise<void> {
  const { commands } = readJob<OriginalJob>(process.argv[2]);
  const started = performance.now();
  for (const argv of commands) checkExec(await execArgv({ argv, timeoutMs: 10_000 }), argv);
  const loopMs = performance.now() - started;
  const report: OriginalReport = { startupMs, loopMs, processes: commands.length };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `apply-original: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
