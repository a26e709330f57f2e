/**
 * Runs INSIDE the lab host (its mount ns holds /run/wireguard/wg0.sock):
 *   node --import tsx bench/wg/apply-runos.ts JOB.json uapi|wg
 * One `createWireGuardPort(...).applyPeers("wg0", desired, { removeOthers: true, previous })`, timed
 * alone; prints a RunosReport as one JSON line.
 *   uapi: the port as the agent builds it; wireguard-go's socket is there, so one UAPI transaction.
 *   wg:   the socket is hidden from the port (its kernel-WireGuard path: `wg show wg0 dump` and ONE
 *         `wg set wg0 peer ... peer ...`); the `wg` tool itself still reaches wireguard-go by the socket.
 */
import { performance } from "node:perf_hooks";
import { type Exec, execArgv } from "../../src/agent/host/exec.js";
import { createPaths, type Paths } from "../../src/agent/host/paths.js";
import { createWireGuardPort } from "../../src/agent/host/wireguard.js";
import { type RunosJob, type RunosPath, type RunosReport, readJob } from "./jobs.js";
import { argvBytes, IFACE } from "./peers.js";

const startupMs = performance.now();

async function main(): Promise<void> {
  const [jobFile, pathArg] = process.argv.slice(2);
  if (pathArg !== "uapi" && pathArg !== "wg") throw new Error("usage: apply-runos.ts JOB.json uapi|wg");
  const path: RunosPath = pathArg;
  const job = readJob<RunosJob>(jobFile);

  const real = createPaths("/");
  const paths: Paths =
    path === "uapi"
      ? real
      : {
          ...real,
          onRoot: (p) => (p.startsWith("/run/wireguard/") ? `/nonexistent-runos-bench${p}` : real.onRoot(p)),
        };
  let processes = 0;
  let maxArgvBytes = 0;
  const countingExec: Exec = (request) => {
    processes += 1;
    maxArgvBytes = Math.max(maxArgvBytes, argvBytes(request.argv));
    return execArgv(request);
  };
  const port = createWireGuardPort(paths, countingExec);
  const previous = job.previous ? new Map(job.previous.map((p) => [p.publicKey, p])) : undefined;

  const started = performance.now();
  const result = await port.applyPeers(IFACE, job.desired, { removeOthers: true, previous });
  const applyMs = performance.now() - started;

  if (result.via !== path) throw new Error(`applyPeers went via ${result.via}, expected ${path}`);
  const report: RunosReport = { path, startupMs, applyMs, result, processes, maxArgvBytes };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `apply-runos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
