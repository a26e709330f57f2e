import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { RunosError } from "../../common/errors.js";

/**
 * Single-instance lock as an O_EXCL PID file (Node has no flock). A file left by a dead process
 * is taken over; a live holder refuses the start.
 */
export function acquireAgentLock(lockFile: string): () => void {
  mkdirSync(dirname(lockFile), { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockFile, "wx", 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => releaseIfOurs(lockFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = readHolder(lockFile);
      if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
        throw new RunosError(
          "NA_ALREADY_RUNNING",
          `another runos agent (pid ${holder}) is already running (lock ${lockFile})`,
          {
            hint: "stop it first: `systemctl stop runos.service`",
          },
        );
      }
      rmSync(lockFile, { force: true }); // stale: its process is gone
    }
  }
  throw new RunosError("NA_ALREADY_RUNNING", `could not take the agent lock ${lockFile}`);
}

function readHolder(lockFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockFile, "utf8").trim(), 10);
    return Number.isFinite(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function releaseIfOurs(lockFile: string): void {
  if (readHolder(lockFile) === process.pid) rmSync(lockFile, { force: true });
}
