/** What bench:fanout counts as a peer message and when such a message applied a join or a leave. */
import { agentCapabilities } from "../../src/agent/daemon/connection.js";
import { peersDeltaCapability } from "../../src/nodeward/cluster/overlay.js";
import type { Mode, Traffic, Watch } from "./fanout-ipc.js";

/** The instructions that carry wg0 peers: the full set (the original's way) and the delta. */
export const peerTypes: ReadonlySet<string> = new Set(["SET_VPN_PEERS", "RUNOS_VPN_PEERS_DELTA"]);

/** What each mode announces in its hello: the real agent's capabilities, or the same without deltas. */
export const capabilitiesOf: Record<Mode, readonly string[]> = {
  delta: agentCapabilities,
  full: agentCapabilities.filter((c) => c !== peersDeltaCapability),
};

interface PeerLike {
  pubKey?: string;
}

/** The parsed payload of SET_VPN_PEERS or RUNOS_VPN_PEERS_DELTA (only the fields looked at). */
export interface PeerPayload {
  peers?: PeerLike[];
  fullState?: boolean;
  upsert?: PeerLike[];
  remove?: string[];
}

/**
 * Whether a handled peer instruction applied the watched change: for a join, the joiner's key
 * arrived (a delta upsert, or inside a full set); for a leave, it went (a delta remove, or a full
 * set without it).
 */
export function applies(watch: Watch, type: string, payload: PeerPayload): boolean {
  const has = (list: PeerLike[] | undefined) => list?.some((p) => p.pubKey === watch.key) === true;
  if (type === "RUNOS_VPN_PEERS_DELTA") {
    return watch.kind === "join" ? has(payload.upsert) : payload.remove?.includes(watch.key) === true;
  }
  if (type === "SET_VPN_PEERS") {
    if (watch.kind === "join") return has(payload.peers);
    return payload.fullState === true && !has(payload.peers);
  }
  return false;
}

/** Adds messages of one type to a per-type tally. */
export function addTraffic(traffic: Traffic, type: string, count: number, bytes: number): void {
  const entry = traffic[type] ?? { count: 0, bytes: 0 };
  entry.count += count;
  entry.bytes += bytes;
  traffic[type] = entry;
}
