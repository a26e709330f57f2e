import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { RunosError } from "../../common/errors.js";
import { checkExec, type Exec } from "./exec.js";
import type { Paths } from "./paths.js";
import {
  type LivePeer,
  type PeerChange,
  planPeerChanges,
  uapiLines,
  type WgPeer,
  wgSetArgs,
} from "./wireguard-plan.js";
import { base64KeyToHex, hexKeyToBase64, uapiGet, uapiSet } from "./wireguard-uapi.js";

export interface WgPeerStatus extends LivePeer {
  lastHandshake: Date | undefined;
  rxBytes: number;
  txBytes: number;
}

export interface ApplyPeersResult {
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  /** How the change was made: one UAPI transaction, or one `wg set` process. */
  via: "uapi" | "wg" | "none";
}

/** The agent's only way to touch WireGuard. */
export interface WireGuardPort {
  interfaceExists(iface: string): boolean;
  interfaceIpv4(iface: string): string;
  /** /etc/wireguard/public_key, written by the VPN install; "" when absent. */
  publicKey(): Promise<string>;
  peers(iface: string): Promise<WgPeerStatus[]>;
  /** Applies already-planned changes in one transaction, without reading the device first. */
  applyChanges(iface: string, changes: PeerChange[]): Promise<void>;
  applyPeers(
    iface: string,
    desired: WgPeer[],
    options: { removeOthers: boolean; previous?: Map<string, WgPeer> },
  ): Promise<ApplyPeersResult>;
}

export function createWireGuardPort(paths: Paths, exec: Exec): WireGuardPort {
  const socketOf = (iface: string) => paths.onRoot(`/run/wireguard/${iface}.sock`);

  async function livePeers(iface: string): Promise<{ via: "uapi" | "wg"; peers: WgPeerStatus[] }> {
    const socket = socketOf(iface);
    if (existsSync(socket)) {
      const device = await uapiGet(socket);
      return {
        via: "uapi",
        peers: device.peers.map((p) => ({
          publicKey: hexKeyToBase64(p.publicKeyHex),
          endpoint: p.endpoint,
          allowedIps: p.allowedIps,
          persistentKeepalive: p.persistentKeepalive,
          lastHandshake: p.lastHandshakeSec > 0 ? new Date(p.lastHandshakeSec * 1000) : undefined,
          rxBytes: p.rxBytes,
          txBytes: p.txBytes,
        })),
      };
    }
    const argv = ["wg", "show", iface, "dump"];
    const result = checkExec(await exec({ argv, timeoutMs: 10_000 }), argv);
    // First line is the interface; then: pubkey psk endpoint allowed-ips handshake rx tx keepalive
    const peers = result.stdout
      .trim()
      .split("\n")
      .slice(1)
      .filter(Boolean)
      .map((line) => {
        const [
          publicKey = "",
          ,
          endpoint = "",
          allowed = "",
          handshake = "0",
          rx = "0",
          tx = "0",
          keepalive = "off",
        ] = line.split("\t");
        return {
          publicKey,
          endpoint: endpoint === "(none)" ? "" : endpoint,
          allowedIps: allowed === "(none)" ? [] : allowed.split(","),
          persistentKeepalive: keepalive === "off" ? 0 : Number(keepalive),
          lastHandshake: Number(handshake) > 0 ? new Date(Number(handshake) * 1000) : undefined,
          rxBytes: Number(rx),
          txBytes: Number(tx),
        };
      });
    return { via: "wg", peers };
  }

  return {
    interfaceExists: (iface) => networkInterfaces()[iface] !== undefined || existsSync(socketOf(iface)),
    interfaceIpv4: (iface) => networkInterfaces()[iface]?.find((a) => a.family === "IPv4")?.address ?? "",
    async publicKey() {
      try {
        return (await readFile(paths.onRoot("/etc/wireguard/public_key"), "utf8")).trim();
      } catch {
        return "";
      }
    },
    async peers(iface) {
      return (await livePeers(iface)).peers;
    },
    async applyChanges(iface, changes) {
      if (changes.length === 0) return;
      const socket = socketOf(iface);
      if (existsSync(socket)) {
        await uapiSet(socket, uapiLines(changes, base64KeyToHex));
        return;
      }
      const argv = ["wg", "set", iface, ...wgSetArgs(changes)];
      checkExec(await exec({ argv, timeoutMs: 30_000 }), argv);
    },
    async applyPeers(iface, desired, options) {
      if (!this.interfaceExists(iface)) {
        throw new RunosError("NA_NOT_FOUND", `WireGuard interface ${iface} does not exist`, {
          hint: "install the VPN first: `runos install wireguard`",
        });
      }
      const live = await livePeers(iface);
      const changes = planPeerChanges(live.peers, desired, options.previous, options.removeOthers);
      const counts = countChanges(changes, desired.length);
      if (changes.length === 0) return { ...counts, via: "none" };
      if (live.via === "uapi") {
        await uapiSet(socketOf(iface), uapiLines(changes, base64KeyToHex));
      } else {
        const argv = ["wg", "set", iface, ...wgSetArgs(changes)];
        checkExec(await exec({ argv, timeoutMs: 30_000 }), argv);
      }
      return { ...counts, via: live.via };
    },
  };
}

function countChanges(changes: PeerChange[], desiredCount: number): Omit<ApplyPeersResult, "via"> {
  const added = changes.filter((c) => c.kind === "add").length;
  const updated = changes.filter((c) => c.kind === "update").length;
  const removed = changes.filter((c) => c.kind === "remove").length;
  return { added, updated, removed, unchanged: desiredCount - added - updated };
}
