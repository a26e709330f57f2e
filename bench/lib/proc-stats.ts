import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** USER_HZ for /proc/<pid>/stat times; 100 on every mainstream Linux. */
const clockTicks: number = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Resident set size of a process in KiB (VmRSS), or undefined once it is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU time a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after the parenthesised command name; utime and stime are fields 14 and 15 overall
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/**
 * Linux pressure stall information for CPU: microseconds during which at least one runnable task
 * waited for a CPU, since boot. Its growth over a phase, divided by the phase's length, says how
 * contended the machine was (0 = never, 1 = always). Undefined without PSI.
 */
export function cpuPressureUs(): number | undefined {
  try {
    const match = /^some .* total=(\d+)$/m.exec(readFileSync("/proc/pressure/cpu", "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Share of a phase during which some task waited for a CPU; call once at the start, once at the end. */
export function cpuPressureMeter(): () => number | null {
  const startUs = cpuPressureUs();
  const startMs = Date.now();
  return () => {
    const endUs = cpuPressureUs();
    if (startUs === undefined || endUs === undefined) return null;
    return Math.round(((endUs - startUs) / 1000 / Math.max(1, Date.now() - startMs)) * 100) / 100;
  };
}

/** TCP counters of this network namespace that show an overrun listener. */
export interface TcpCounters {
  /** SYNs dropped because the listener's accept queue (backlog) was full. */
  listenOverflows: number;
  /** SYNs the connecting side had to send again. */
  synRetransmits: number;
}

export function tcpCounters(): TcpCounters {
  try {
    const lines = readFileSync("/proc/net/netstat", "utf8").split("\n");
    const at = lines.findIndex((l) => l.startsWith("TcpExt:"));
    const keys = (lines[at] ?? "").split(/\s+/);
    const values = (lines[at + 1] ?? "").split(/\s+/);
    const get = (key: string) => Number(values[keys.indexOf(key)] ?? 0) || 0;
    return { listenOverflows: get("ListenOverflows"), synRetransmits: get("TCPSynRetrans") };
  } catch {
    return { listenOverflows: 0, synRetransmits: 0 };
  }
}

/** The soft limit on open files of this process (children inherit it). */
export function openFilesLimit(): number {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
  return match?.[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(match?.[1] ?? 1024);
}

export interface RssSeries {
  stop(): { samples: number; meanKiB: number; maxKiB: number; lastKiB: number };
}

/** Samples a process's RSS on a timer until stopped (bounded by the caller's window). */
export function sampleRss(pid: number, everyMs: number): RssSeries {
  const values: number[] = [];
  const take = () => {
    const v = rssKiB(pid);
    if (v !== undefined) values.push(v);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const sum = values.reduce((a, b) => a + b, 0);
      return {
        samples: values.length,
        meanKiB: values.length ? sum / values.length : 0,
        maxKiB: values.length ? Math.max(...values) : 0,
        lastKiB: values[values.length - 1] ?? 0,
      };
    },
  };
}

/** One reading of a process: wall clock (ms), CPU used so far (s), RSS (KiB). */
export interface ProcSample {
  at: number;
  cpuSeconds: number;
  rssKiB: number;
}

export interface ProcSeries {
  /** The latest reading, if any. */
  last(): ProcSample | undefined;
  /** Stops sampling (taking one last reading) and returns every reading. */
  stop(): ProcSample[];
}

/** Samples a process's CPU and RSS from /proc every `everyMs` until stopped or the process is gone. */
export function sampleProcess(pid: number, everyMs: number): ProcSeries {
  const samples: ProcSample[] = [];
  const take = () => {
    const cpu = cpuSeconds(pid);
    const rss = rssKiB(pid);
    if (cpu !== undefined && rss !== undefined)
      samples.push({ at: Date.now(), cpuSeconds: cpu, rssKiB: rss });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    last: () => samples[samples.length - 1],
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** CPU and memory of a process over [from, to] (wall clock ms), from sampleProcess() readings. */
export interface ProcFigures {
  seconds: number;
  cpuSeconds: number;
  /** cpuSeconds / seconds. */
  meanCores: number;
  /** The highest CPU use over any window of at least windowMs between two readings. */
  peakCores: number;
  peakRssKiB: number;
}

export function procFigures(
  samples: readonly ProcSample[],
  from: number,
  to: number,
  windowMs = 1_000,
): ProcFigures {
  const inside = samples.filter((s) => s.at >= from && s.at <= to);
  const first = inside[0];
  const last = inside[inside.length - 1];
  if (!first || !last || last.at === first.at) {
    return { seconds: 0, cpuSeconds: 0, meanCores: 0, peakCores: 0, peakRssKiB: first?.rssKiB ?? 0 };
  }
  let peakCores = 0;
  let start = 0;
  for (let end = 1; end < inside.length; end++) {
    const b = inside[end] as ProcSample;
    // the shortest window ending at b that is at least windowMs long
    while (start + 1 < end && b.at - (inside[start + 1] as ProcSample).at >= windowMs) start += 1;
    const a = inside[start] as ProcSample;
    if (b.at - a.at >= windowMs)
      peakCores = Math.max(peakCores, (b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000));
  }
  const seconds = (last.at - first.at) / 1000;
  const cpu = last.cpuSeconds - first.cpuSeconds;
  return {
    seconds,
    cpuSeconds: cpu,
    meanCores: cpu / seconds,
    // a range shorter than one window has only its mean
    peakCores: peakCores || cpu / seconds,
    peakRssKiB: Math.max(...inside.map((s) => s.rssKiB)),
  };
}
