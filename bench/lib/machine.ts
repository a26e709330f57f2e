import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg, release, totalmem } from "node:os";

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  loadAverage1m: number;
}

/** What the figures were measured on; the load average hints at how noisy the box was. */
export function describeMachine(): Machine {
  let cpuModel = "unknown";
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpuModel;
  } catch {
    // not Linux
  }
  return {
    nproc: availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    node: process.version,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

export interface CodeState {
  head: string;
  /** Files under src/ that differ from HEAD when the run started (others edit in parallel). */
  changedSrcFiles: number;
  /** sha256 (first 12 hex) of `git diff HEAD -- src` plus untracked src files, to tell trees apart. */
  srcDiff: string;
}

/** Which code was measured: figures only compare between runs of the same state. */
export function describeCode(repo: string): CodeState {
  const git = (...args: string[]) => {
    try {
      return execFileSync("git", ["-C", repo, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    } catch {
      return "";
    }
  };
  const status = git("status", "--porcelain", "--", "src").split("\n").filter(Boolean);
  const digest = createHash("sha256").update(git("diff", "HEAD", "--", "src"));
  for (const file of git("ls-files", "--others", "--exclude-standard", "--", "src")
    .split("\n")
    .filter(Boolean)) {
    digest.update(file);
    try {
      digest.update(readFileSync(`${repo}/${file}`));
    } catch {
      // vanished meanwhile
    }
  }
  return {
    head: git("rev-parse", "--short", "HEAD").trim() || "unknown",
    changedSrcFiles: status.length,
    srcDiff: status.length ? digest.digest("hex").slice(0, 12) : "clean",
  };
}
