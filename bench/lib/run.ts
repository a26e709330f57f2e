/**
 * What every benchmark orchestrator does around its measurement: the work dir layout, children
 * that die with it (exit, SIGINT/SIGTERM, a hard deadline), and the results file.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Endpoint } from "./ipc.js";
import type { NodewardProcess } from "./nodeward-process.js";

export interface BenchDirs {
  data: string;
  logs: string;
  results: string;
  profiles: string;
}

/** The work dir's layout, created. */
export function benchDirs(workDir: string): BenchDirs {
  const dirs = {
    data: join(workDir, "nodeward"),
    logs: join(workDir, "logs"),
    results: join(workDir, "results"),
    profiles: join(workDir, "profiles"),
  };
  mkdirSync(workDir, { recursive: true });
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  return dirs;
}

/**
 * Every child dies with us, whatever the reason: on exit, on SIGINT/SIGTERM and after
 * `maxMinutes`. Returns what ends the deadline once the run finished.
 */
export function guardRun(killAll: () => void, maxMinutes: number, say: (text: string) => void): () => void {
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping nodeward and workers`);
      killAll();
      process.exit(130);
    });
  }
  const deadline = setTimeout(() => {
    say(`hard stop after ${maxMinutes} min`);
    killAll();
    process.exit(2);
  }, maxMinutes * 60_000);
  deadline.unref();
  return () => clearTimeout(deadline);
}

/** Writes the full JSON result and prints the summary with where everything is. */
export function reportResult(
  dirs: BenchDirs,
  name: string,
  result: { startedAt: string },
  summary: string,
): void {
  const stamp = result.startedAt.replaceAll(":", "").replace(/\..*/, "");
  const file = join(dirs.results, `${name}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${summary}\nresults      ${file}\nlogs         ${dirs.logs}\n`);
}

/** `items` in `parts` slices of nearly equal size, in order (one per worker). */
export function chunks<T>(items: readonly T[], parts: number): T[][] {
  return Array.from({ length: parts }, (_, i) =>
    items.slice(Math.floor((i * items.length) / parts), Math.floor(((i + 1) * items.length) / parts)),
  );
}

/** Where simulated agents dial this nodeward. */
export function endpointOf(nw: NodewardProcess): Endpoint {
  return { host: "127.0.0.1", l1Port: nw.ports.l1, l2Port: nw.ports.l2 };
}

/** nodeward holds one socket per agent: refuse to start below that. */
export function requireOpenFiles(agents: number, limit: number): void {
  if (limit < agents + 512) {
    throw new Error(
      `open-file limit ${limit} is too low for ${agents} agents (nodeward holds one socket per agent); run \`ulimit -n ${agents + 1024}\` first`,
    );
  }
}
