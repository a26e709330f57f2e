// TCP relays across the namespace wall, through unix sockets (a path-based unix socket is reachable from
// every netns, and /tmp is shared): the VM reaching a service in a host, and hosts reaching a service
// that listens on the VM's loopback (e.g. nodeward run in the root namespace).
import { mkdirSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createConnection, createServer, type Socket } from "node:net";
import { spawn } from "./host.js";
import { hostPath, type LabHost } from "./paths.js";
import type { LabProcess } from "./process.js";
import { waitFor } from "./run.js";

// Runs inside a host: `node -e RELAY LISTEN TARGET`, each `tcp:IP:PORT` or `unix:PATH`.
const RELAY_SCRIPT = `const net = require("node:net");
const parse = (s) => s.startsWith("unix:") ? { path: s.slice(5) }
  : { host: s.slice(4, s.lastIndexOf(":")), port: Number(s.slice(s.lastIndexOf(":") + 1)) };
const [listen, target] = process.argv.slice(1).map(parse);
if (listen.path) require("node:fs").rmSync(listen.path, { force: true });
net.createServer((c) => {
  const u = net.connect(target);
  c.pipe(u).pipe(c);
  c.on("error", () => u.destroy());
  u.on("error", () => c.destroy());
}).listen(listen, () => console.log("listening"));`;

export interface Relay {
  /** The relay process inside the host. */
  readonly proc: LabProcess;
  close(): Promise<void>;
}

async function startInHostRelay(host: LabHost, listen: string, target: string): Promise<LabProcess> {
  const proc = spawn(host, [process.execPath, "-e", RELAY_SCRIPT, listen, target], { cwd: "/" });
  await waitFor(
    `relay ${listen} in ${host.name}`,
    async () => (await readFile(proc.logFile, "utf8")).includes("listening"),
    {
      timeoutMs: 5_000,
    },
  );
  return proc;
}

/**
 * Lets the VM reach `ip:port` inside `host`: returns a unix socket path on the VM
 * (for `http.request({ socketPath })`, grpc-js `unix:PATH`, `net.connect(path)`).
 */
export async function exposeHostPort(
  host: LabHost,
  target: { ip: string; port: number },
): Promise<Relay & { socketPath: string }> {
  const inside = `/run/lab-relay/${target.ip}-${target.port}.sock`;
  mkdirSync(hostPath(host, "/run/lab-relay"), { recursive: true });
  const proc = await startInHostRelay(host, `unix:${inside}`, `tcp:${target.ip}:${target.port}`);
  return { proc, socketPath: hostPath(host, inside), close: async () => void (await proc.stop()) };
}

/**
 * Lets every lab host reach a service on the VM's loopback: `host` listens on `listen.ip:listen.port`
 * (e.g. nodeward's public address) and forwards to `127.0.0.1:vmPort` on the VM.
 */
export async function exposeVmPort(
  host: LabHost,
  listen: { ip: string; port: number },
  vmPort: number,
): Promise<Relay> {
  const socketPath = `${host.dir}/relay-${listen.port}.sock`;
  rmSync(socketPath, { force: true });
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: "127.0.0.1", port: vmPort });
    for (const s of [client, upstream]) {
      open.add(s);
      s.once("close", () => open.delete(s));
    }
    pipeBoth(client, upstream);
  });
  const close = async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(socketPath, { force: true });
  };
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(socketPath, resolve));
  try {
    const proc = await startInHostRelay(host, `tcp:${listen.ip}:${listen.port}`, `unix:${socketPath}`);
    return {
      proc,
      close: async () => {
        await proc.stop();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  a.on("error", () => b.destroy());
  b.on("error", () => a.destroy());
}
