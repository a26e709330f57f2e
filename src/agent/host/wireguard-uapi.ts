import { createConnection } from "node:net";
import { RunosError } from "../../common/errors.js";

/**
 * The cross-platform WireGuard configuration protocol ("UAPI") spoken by wireguard-go on
 * /var/run/wireguard/<iface>.sock: one `get=1` or `set=1` transaction per connection.
 */
export interface UapiPeer {
  publicKeyHex: string;
  endpoint: string;
  allowedIps: string[];
  persistentKeepalive: number;
  lastHandshakeSec: number;
  rxBytes: number;
  txBytes: number;
}

export interface UapiDevice {
  publicKeyHex?: string;
  listenPort: number;
  peers: UapiPeer[];
}

export function uapiRequest(socketPath: string, request: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let response = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new RunosError("NA_TIMEOUT", `WireGuard UAPI ${socketPath} did not answer within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk) => {
      response += chunk.toString("utf8");
      if (response.endsWith("\n\n")) {
        clearTimeout(timer);
        socket.end();
        resolve(response);
      }
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(
        new RunosError("NA_EXEC_FAILED", `WireGuard UAPI ${socketPath}: ${err.message}`, { cause: err }),
      );
    });
    socket.on("close", () => {
      clearTimeout(timer);
      if (!response.endsWith("\n\n"))
        reject(new RunosError("NA_EXEC_FAILED", `WireGuard UAPI ${socketPath} closed early`));
    });
  });
}

function errnoOf(response: string): number {
  const match = /errno=(-?\d+)/.exec(response);
  return match ? Number(match[1]) : -1;
}

export async function uapiGet(socketPath: string): Promise<UapiDevice> {
  const response = await uapiRequest(socketPath, "get=1\n\n");
  if (errnoOf(response) !== 0)
    throw new RunosError("NA_EXEC_FAILED", `WireGuard UAPI get failed: ${response.trim()}`);
  const device: UapiDevice = { listenPort: 0, peers: [] };
  let peer: UapiPeer | undefined;
  for (const line of response.split("\n")) {
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === "public_key") {
      peer = {
        publicKeyHex: value,
        endpoint: "",
        allowedIps: [],
        persistentKeepalive: 0,
        lastHandshakeSec: 0,
        rxBytes: 0,
        txBytes: 0,
      };
      device.peers.push(peer);
    } else if (!peer) {
      if (key === "listen_port") device.listenPort = Number(value);
    } else if (key === "endpoint") peer.endpoint = value;
    else if (key === "allowed_ip") peer.allowedIps.push(value);
    else if (key === "persistent_keepalive_interval") peer.persistentKeepalive = Number(value);
    else if (key === "last_handshake_time_sec") peer.lastHandshakeSec = Number(value);
    else if (key === "rx_bytes") peer.rxBytes = Number(value);
    else if (key === "tx_bytes") peer.txBytes = Number(value);
  }
  return device;
}

/** Applies `lines` (already validated) as ONE transaction. */
export async function uapiSet(socketPath: string, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  const response = await uapiRequest(socketPath, `set=1\n${lines.join("\n")}\n\n`);
  const errno = errnoOf(response);
  if (errno !== 0) throw new RunosError("NA_EXEC_FAILED", `WireGuard UAPI set failed (errno ${errno})`);
}

export function base64KeyToHex(key: string): string {
  return Buffer.from(key, "base64").toString("hex");
}

export function hexKeyToBase64(hex: string): string {
  return Buffer.from(hex, "hex").toString("base64");
}
