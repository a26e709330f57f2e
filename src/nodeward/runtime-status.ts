import { monitorEventLoopDelay } from "node:perf_hooks";
import type { GateCounters } from "./transport/handshake-gate.js";

export interface RuntimeStatus {
  sessions: number;
  online: number;
  /** The handshake gates of L1Sec and L2Sec (absent before start). */
  handshakes: { l1: GateCounters; l2: GateCounters } | null;
  /** Event-loop delay since the previous status read (every heartbeat waits this long on top). */
  eventLoopDelayMs: { p50: number; p99: number; max: number; sinceMs: number };
  memoryMiB: { rss: number; heapUsed: number; heapTotal: number; external: number };
  uptimeSeconds: number;
}

export interface StatusSources {
  sessions(): number;
  online(): number;
  handshakes(): { l1: GateCounters; l2: GateCounters } | null;
}

/**
 * What an operator (or the benchmark) needs to see how nodeward copes: sessions, the handshake
 * gates, event-loop delay and memory. The delay histogram restarts at every read, so two reads
 * bracket a window.
 */
export function runtimeStatus(sources: StatusSources): { read(): RuntimeStatus; stop(): void } {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let since = Date.now();
  const ms = (ns: number) => (Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : 0);
  const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
  return {
    read() {
      const now = Date.now();
      const memory = process.memoryUsage();
      const status: RuntimeStatus = {
        sessions: sources.sessions(),
        online: sources.online(),
        handshakes: sources.handshakes(),
        eventLoopDelayMs: {
          p50: ms(delay.percentile(50)),
          p99: ms(delay.percentile(99)),
          max: ms(delay.max),
          sinceMs: now - since,
        },
        memoryMiB: {
          rss: mib(memory.rss),
          heapUsed: mib(memory.heapUsed),
          heapTotal: mib(memory.heapTotal),
          external: mib(memory.external),
        },
        uptimeSeconds: Math.round(process.uptime()),
      };
      delay.reset();
      since = now;
      return status;
    },
    stop: () => delay.disable(),
  };
}
