import { lookup } from "node:dns/promises";
import { accessSync, constants, existsSync, readdirSync, readFileSync, statfsSync } from "node:fs";
import { createConnection, isIP } from "node:net";
import { cpus, networkInterfaces, totalmem } from "node:os";
import { delimiter, join } from "node:path";
import type { Paths } from "../host/paths.js";

/** What preflight reads about the machine: files, sockets, interfaces, sizes. Read-only. */
export interface PreflightHost {
  euid(): number;
  read(path: string): string | undefined;
  exists(path: string): boolean;
  list(dir: string): string[];
  writable(path: string): boolean;
  /** TCP ports something listens on in this network namespace. */
  listeningTcpPorts(): Set<number>;
  ipv4Addresses(): { iface: string; address: string; prefix: number }[];
  onPath(program: string): boolean;
  cpuCount(): number;
  memoryBytes(): number;
  freeBytes(path: string): number | undefined;
  /** DNS lookup of a host name (an IP literal resolves to itself). */
  resolve(host: string): Promise<string | undefined>;
  /** A TCP connect within the timeout: "ok", or why not ("refused", "timed out", the error). */
  connect(host: string, port: number, timeoutMs: number): Promise<string>;
}

export function createPreflightHost(paths: Paths): PreflightHost {
  const at = (p: string) => paths.onRoot(p);
  return {
    euid: () => process.geteuid?.() ?? -1,
    read(path) {
      try {
        return readFileSync(at(path), "utf8");
      } catch {
        return undefined;
      }
    },
    exists: (path) => existsSync(at(path)),
    list(dir) {
      try {
        return readdirSync(at(dir));
      } catch {
        return [];
      }
    },
    writable(path) {
      try {
        accessSync(at(path), constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
    listeningTcpPorts() {
      const ports = new Set<number>();
      for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
        let text = "";
        try {
          text = readFileSync(file, "utf8");
        } catch {
          continue;
        }
        for (const line of text.split("\n").slice(1)) {
          const fields = line.trim().split(/\s+/);
          // state 0A = LISTEN; local address is HEXIP:HEXPORT
          if (fields[3] === "0A") ports.add(Number.parseInt(fields[1]?.split(":")[1] ?? "", 16));
        }
      }
      return ports;
    },
    ipv4Addresses() {
      const out: { iface: string; address: string; prefix: number }[] = [];
      for (const [iface, addrs] of Object.entries(networkInterfaces())) {
        for (const a of addrs ?? [])
          if (a.family === "IPv4")
            out.push({ iface, address: a.address, prefix: Number(a.cidr?.split("/")[1] ?? 32) });
      }
      return out;
    },
    onPath(program) {
      return (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter).some((dir) => {
        try {
          accessSync(join(dir, program), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      });
    },
    cpuCount: () => cpus().length,
    memoryBytes: () => totalmem(),
    async resolve(host) {
      if (isIP(host)) return host;
      try {
        return (await lookup(host)).address;
      } catch {
        return undefined;
      }
    },
    connect(host, port, timeoutMs) {
      return new Promise((done) => {
        const socket = createConnection({ host, port });
        const finish = (why: string) => {
          socket.destroy();
          done(why);
        };
        socket.setTimeout(timeoutMs, () => finish("timed out"));
        socket.once("connect", () => finish("ok"));
        socket.once("error", (err: NodeJS.ErrnoException) =>
          finish(err.code === "ECONNREFUSED" ? "refused" : (err.code ?? err.message)),
        );
      });
    },
    freeBytes(path) {
      try {
        const s = statfsSync(at(path));
        return s.bavail * s.bsize;
      } catch {
        return undefined;
      }
    },
  };
}
