// wireguard-go in lab hosts for the tests: a key, the daemon, peers, and the endpoint a peer learned.
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { execOk, hostPath, type LabProcess, spawn, type TopologyHost, waitFor } from "../../lab/index.js";

export interface WgNode {
  readonly host: TopologyHost;
  readonly proc: LabProcess;
  readonly publicKey: string;
  /** wg0's address (in a /24). */
  readonly overlayIp: string;
}

const KEY_FILE = "/etc/wireguard/wg0.key";

/** Starts `wireguard-go wg0` with a fresh key, a listen port and an overlay address; wg0 stays down. */
export async function startWg(h: TopologyHost, overlayIp: string, listenPort = 51820): Promise<WgNode> {
  const key = (await execOk(h.host, ["wg", "genkey"])).trim();
  writeFileSync(hostPath(h.host, KEY_FILE), `${key}\n`, { mode: 0o600 });
  chmodSync(hostPath(h.host, KEY_FILE), 0o600);
  const publicKey = (await execOk(h.host, ["wg", "pubkey"], { input: `${key}\n` })).trim();
  const proc = spawn(h.host, ["wireguard-go", "-f", "wg0"], { cwd: "/" });
  await waitFor(`wg0 UAPI socket in ${h.name}`, () =>
    existsSync(hostPath(h.host, "/run/wireguard/wg0.sock")),
  );
  await execOk(h.host, ["wg", "set", "wg0", "private-key", KEY_FILE, "listen-port", String(listenPort)]);
  await execOk(h.host, ["ip", "addr", "add", `${overlayIp}/24`, "dev", "wg0"]);
  return { host: h, proc, publicKey, overlayIp };
}

export interface PeerOptions {
  /** `IP:PORT`; without it the node only answers (it learns the endpoint from the peer's packets). */
  endpoint?: string;
  keepaliveS?: number;
}

export async function addPeer(node: WgNode, peer: WgNode, opts: PeerOptions = {}): Promise<void> {
  const argv = ["wg", "set", "wg0", "peer", peer.publicKey, "allowed-ips", `${peer.overlayIp}/32`];
  if (opts.endpoint) argv.push("endpoint", opts.endpoint);
  if (opts.keepaliveS) argv.push("persistent-keepalive", String(opts.keepaliveS));
  await execOk(node.host.host, argv);
}

/** Brings wg0 up: a peer with persistent keepalive starts its handshake at once. */
export async function linkUp(node: WgNode): Promise<void> {
  await execOk(node.host.host, ["ip", "link", "set", "wg0", "up"]);
}

/** The endpoint `node` currently has for `peer` (`IP:PORT`, or `(none)`). */
export async function endpointOf(node: WgNode, peer: WgNode): Promise<string> {
  const lines = (await execOk(node.host.host, ["wg", "show", "wg0", "endpoints"])).trim().split("\n");
  const line = lines.find((l) => l.startsWith(`${peer.publicKey}\t`));
  return line?.split("\t")[1] ?? "(none)";
}
