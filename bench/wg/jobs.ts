// What bench/wg-peers.ts hands to the helpers it runs inside the lab host (a JSON file on the shared
// /tmp) and what they print back (one JSON line on stdout).
import { readFileSync } from "node:fs";
import type { ApplyPeersResult } from "../../src/agent/host/wireguard.js";
import type { WgPeer } from "../../src/agent/host/wireguard-plan.js";

/** Which way runos's WireGuard port talks to wg0. */
export type RunosPath = "uapi" | "wg";

/** For apply-runos.ts: one `applyPeers(IFACE, desired, { removeOthers: true, previous })`. */
export interface RunosJob {
  desired: WgPeer[];
  /** The previously applied set (what the agent's peer store holds); null on a first apply. */
  previous: WgPeer[] | null;
}

export interface RunosReport {
  path: RunosPath;
  /** From process start (performance.timeOrigin) to the helper's first statement: node + tsx + imports. */
  startupMs: number;
  /** The applyPeers call alone: read the live peers, diff, apply. */
  applyMs: number;
  result: ApplyPeersResult;
  /** Processes applyPeers started (the `wg` path: `wg show dump` and `wg set`). */
  processes: number;
  /** The largest argv among them, in bytes (ARG_MAX counts these). */
  maxArgvBytes: number;
}

/** For apply-original.ts: argv lists, run one after the other. */
export interface OriginalJob {
  commands: string[][];
}

export interface OriginalReport {
  startupMs: number;
  /** The whole sequential loop. */
  loopMs: number;
  processes: number;
}

export function readJob<T>(file: string | undefined): T {
  if (!file) throw new Error("usage: <helper> JOB.json");
  return JSON.parse(readFileSync(file, "utf8")) as T;
}
