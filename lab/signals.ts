// Ctrl-C and SIGTERM handling for the CLI and test files: tear down once, by PID, then exit.
import { constants } from "node:os";
import { killAllSpawnedSync, markShuttingDown } from "./process.js";

type TerminationSignal = "SIGINT" | "SIGTERM" | "SIGHUP";
const SIGNALS: readonly TerminationSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * Calls `handler` on the first SIGINT/SIGTERM/SIGHUP. The same signal a second time (Ctrl-C twice) kills
 * what we spawned (by PID) and exits at once. A different one is ignored: `node --test` forwards a SIGTERM
 * right after the terminal's SIGINT, and that must not cut the teardown short.
 * Returns a function that removes the listeners.
 */
export function onTerminationSignal(handler: (signal: TerminationSignal) => void): () => void {
  const seen = new Set<TerminationSignal>();
  const listener = (signal: TerminationSignal) => {
    if (seen.has(signal)) {
      killAllSpawnedSync();
      process.exit(exitCodeFor(signal));
    }
    seen.add(signal);
    if (seen.size === 1) handler(signal);
  };
  for (const s of SIGNALS) process.on(s, listener);
  return () => {
    for (const s of SIGNALS) process.off(s, listener);
  };
}

/** On the first termination signal run `teardown`, then exit with 128+signo. */
export function tearDownOnSignal(teardown: () => Promise<unknown>): () => void {
  return onTerminationSignal((signal) => {
    markShuttingDown(); // a test still running must not create hosts behind the teardown's back
    // Our reader may already be gone (`node --test` exits on Ctrl-C): an EPIPE must not kill the teardown.
    process.stdout.on("error", () => {});
    process.stderr.on("error", () => {});
    process.stderr.write(`lab: ${signal}, tearing down\n`);
    teardown()
      .catch((error: unknown) => process.stderr.write(`lab: teardown failed: ${String(error)}\n`))
      .finally(() => process.exit(exitCodeFor(signal)));
  });
}

export function exitCodeFor(signal: TerminationSignal): number {
  return 128 + constants.signals[signal];
}
