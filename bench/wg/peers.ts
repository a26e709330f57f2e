// Synthetic WireGuard peers for bench/wg-peers.ts, the commands and configs built from them, and the
// check of the live device against them. Pure functions: nothing here starts a process.
import { randomBytes } from "node:crypto";
import type { WgPeer } from "../../src/agent/host/wireguard-plan.js";

export const IFACE = "wg0";
export const LISTEN_PORT = 51820;
/** wg0's own address; peers get the /32s after it. */
export const IFACE_CIDR = "172.24.0.1/16";
/** 172.24.0.2 .. 172.24.234.97: every peer's /32 and endpoint stay unique and inside their ranges. */
export const MAX_PEERS = 60_000;

/**
 * Peer number `index`: a random 32-byte public key (wireguard-go takes any 32 bytes as a key),
 * endpoint `198.18.A.B:51820` (RFC 2544; the bench host has only `lo` and wg0, no route to it) and
 * allowed IP `172.24.A.B/32`.
 */
export function makePeer(index: number, keepalive: number): WgPeer {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_PEERS + 1)
    throw new Error(`bad peer index ${index}`);
  const n = index + 2;
  const octets = `${n >> 8}.${n & 255}`;
  return {
    publicKey: randomBytes(32).toString("base64"),
    endpoint: `198.18.${octets}:${LISTEN_PORT}`,
    allowedIps: [`172.24.${octets}/32`],
    persistentKeepalive: keepalive,
  };
}

export function makePeers(count: number, keepalive: number): WgPeer[] {
  const peers = Array.from({ length: count }, (_, i) => makePeer(i, keepalive));
  if (new Set(peers.map((p) => p.publicKey)).size !== count) throw new Error("duplicate random keys");
  return peers;
}

export interface Incremental {
  /** The full desired set after the change: the base with `changed` moved, plus `added`. */
  desired: WgPeer[];
  /** The peers that differ from the base (changed endpoints, then the new one). */
  touched: WgPeer[];
  changed: number;
  added: number;
}

/** Moves the endpoint of `changed` peers spread over the base (port 51820 -> 51821) and adds one. */
export function incrementalChange(base: readonly WgPeer[], changed: number, keepalive: number): Incremental {
  const indices = new Set(Array.from({ length: changed }, (_, k) => Math.floor((k * base.length) / changed)));
  if (indices.size !== changed) throw new Error(`need at least ${changed} base peers`);
  const touched: WgPeer[] = [];
  const desired = base.map((peer, i) => {
    if (!indices.has(i)) return peer;
    const moved = { ...peer, endpoint: peer.endpoint.replace(/:\d+$/, `:${LISTEN_PORT + 1}`) };
    touched.push(moved);
    return moved;
  });
  const extra = makePeer(base.length, keepalive);
  desired.push(extra);
  touched.push(extra);
  return { desired, touched, changed, added: 1 };
}

const keepaliveArg = (seconds: number) => (seconds === 0 ? "off" : String(seconds));

/** The original agent's command for one peer: `wg set wg0 peer K allowed-ips IP/32 endpoint E persistent-keepalive 5`. */
export function originalArgv(peer: WgPeer): string[] {
  return [
    "wg",
    "set",
    IFACE,
    "peer",
    peer.publicKey,
    "allowed-ips",
    peer.allowedIps.join(","),
    "endpoint",
    peer.endpoint,
    "persistent-keepalive",
    keepaliveArg(peer.persistentKeepalive),
  ];
}

/** A `wg setconf` file: the interface's key and port, and `peers` (none = every peer removed). */
export function wgConfig(privateKey: string, peers: readonly WgPeer[]): string {
  const lines = ["[Interface]", `PrivateKey = ${privateKey}`, `ListenPort = ${LISTEN_PORT}`];
  for (const p of peers) {
    lines.push(
      "",
      "[Peer]",
      `PublicKey = ${p.publicKey}`,
      `AllowedIPs = ${p.allowedIps.join(", ")}`,
      `Endpoint = ${p.endpoint}`,
    );
    if (p.persistentKeepalive > 0) lines.push(`PersistentKeepalive = ${p.persistentKeepalive}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Bytes the kernel counts for an argv (each string plus its NUL), to compare with ARG_MAX. */
export function argvBytes(argv: readonly string[]): number {
  return argv.reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1, 0);
}

/**
 * Differences between `wg show wg0 dump` and the expected peers (count, endpoint, allowed IPs,
 * keepalive); empty when the device holds exactly `expected`. At most `limit` are listed.
 */
export function dumpMismatches(dump: string, expected: readonly WgPeer[], limit = 5): string[] {
  const rows = dump.trim().split("\n").slice(1).filter(Boolean);
  const live = new Map<string, { endpoint: string; allowedIps: string; keepalive: string }>();
  for (const row of rows) {
    const [key = "", , endpoint = "", allowedIps = "", , , , keepalive = ""] = row.split("\t");
    live.set(key, { endpoint, allowedIps, keepalive });
  }
  const problems: string[] = [];
  if (rows.length !== expected.length)
    problems.push(`${rows.length} peers on ${IFACE}, expected ${expected.length}`);
  for (const peer of expected) {
    if (problems.length >= limit) break;
    const got = live.get(peer.publicKey);
    const want = {
      endpoint: peer.endpoint,
      allowedIps: peer.allowedIps.join(","),
      keepalive: keepaliveArg(peer.persistentKeepalive),
    };
    if (!got) problems.push(`peer ${peer.publicKey} missing`);
    else if (JSON.stringify(got) !== JSON.stringify(want))
      problems.push(`peer ${peer.publicKey}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
  return problems;
}
