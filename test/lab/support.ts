// Shared bits of the lab tests: the root check and tiny network probes run with `node -e` inside hosts.
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { exec, type LabHost, type LabProcess, spawn, waitFor } from "../../lab/index.js";

/** A skip reason when the lab cannot run here, or false. */
export function labSkipReason(): string | false {
  if (process.platform !== "linux") return "the lab needs Linux namespaces";
  if (process.getuid?.() !== 0) return "the lab needs root (netns, mount ns, overlay, nftables); run as root";
  return false;
}

/** describe(), or one visibly skipped test (a skipped suite alone counts as no test at all). */
export function labSuite(name: string, opts: { timeout: number }, body: () => void): void {
  const skip = labSkipReason();
  if (skip) test(name, { skip }, () => {});
  else describe(name, opts, body);
}

export const NODE = process.execPath;

// TCP server: answers each connection with the address and port it sees the client come from.
const TCP_OBSERVER = `const [host, port] = process.argv.slice(1);
require("node:net").createServer((s) => {
  const seen = s.remoteAddress + ":" + s.remotePort;
  console.log("tcp " + seen);
  s.end(seen + "\\n");
}).listen(Number(port), host, () => console.log("listening"));`;

const TCP_ASK = `const [host, port] = process.argv.slice(1);
const s = require("node:net").connect(Number(port), host);
let reply = "";
s.on("data", (d) => (reply += d)).on("end", () => process.stdout.write(reply.trim()));
s.on("error", (e) => { console.error(e.message); process.exit(1); });`;

// UDP server: replies to each datagram with the address and port it came from.
const UDP_OBSERVER = `const [host, port] = process.argv.slice(1);
const sock = require("node:dgram").createSocket("udp4");
sock.on("message", (_m, r) => {
  const seen = r.address + ":" + r.port;
  console.log("udp " + seen);
  sock.send(seen, r.port, r.address);
});
sock.bind(Number(port), host, () => console.log("listening"));`;

const UDP_ASK = `const [host, port, localPort] = process.argv.slice(1);
const sock = require("node:dgram").createSocket("udp4");
const timer = setTimeout(() => { console.error("no reply"); process.exit(1); }, 3000);
sock.on("message", (m) => { process.stdout.write(String(m)); clearTimeout(timer); sock.close(); });
sock.bind(Number(localPort), () => sock.send("hi", Number(port), host));`;

// UDP hole punching: sends to the peer every 200 ms from a fixed local port; prints where the first packet
// from the peer came from, keeps sending a little longer (so the peer hears back), then exits.
const UDP_PUNCH = `const [host, port, localPort, ms] = process.argv.slice(1);
const sock = require("node:dgram").createSocket("udp4");
const send = () => sock.send("punch", Number(port), host);
setInterval(send, 200);
setTimeout(() => { console.error("nothing from the peer"); process.exit(1); }, Number(ms));
sock.once("message", (_m, r) => {
  process.stdout.write(r.address + ":" + r.port);
  setTimeout(() => process.exit(0), 600);
});
sock.bind(Number(localPort), send);`;

/** Punches from `host`'s `localPort` towards ip:port; what the first packet back came from, or null. */
export async function udpPunch(
  host: LabHost,
  ip: string,
  port: number,
  localPort: number,
  timeoutMs: number,
): Promise<string | null> {
  const argv = [NODE, "-e", UDP_PUNCH, ip, String(port), String(localPort), String(timeoutMs)];
  const result = await exec(host, argv, { cwd: "/", timeoutMs: timeoutMs + 5_000 });
  return result.code === 0 ? result.stdout.trim() : null;
}

/** Starts an observer (TCP or UDP) in `host` and waits until it listens. */
export async function startObserver(
  host: LabHost,
  proto: "tcp" | "udp",
  ip: string,
  port: number,
): Promise<LabProcess> {
  const proc = spawn(host, [NODE, "-e", proto === "tcp" ? TCP_OBSERVER : UDP_OBSERVER, ip, String(port)], {
    cwd: "/",
  });
  await waitFor(
    `${proto} observer in ${host.name}`,
    () => readFileSync(proc.logFile, "utf8").includes("listening"),
    {
      timeoutMs: 5_000,
    },
  );
  return proc;
}

/** Connects from `host` to an observer; returns what the observer saw as `address:port`. */
export async function observedSource(
  host: LabHost,
  proto: "tcp" | "udp",
  ip: string,
  port: number,
  localPort = 0,
): Promise<string> {
  const script = proto === "tcp" ? TCP_ASK : UDP_ASK;
  const result = await exec(host, [NODE, "-e", script, ip, String(port), String(localPort)], {
    cwd: "/",
    timeoutMs: 5_000,
  });
  if (result.code !== 0) throw new Error(`${proto} probe from ${host.name} failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** One ping; true when it got an answer within a second. */
export async function pings(host: LabHost, ip: string): Promise<boolean> {
  const result = await exec(host, ["ping", "-n", "-c", "1", "-W", "1", ip], { timeoutMs: 5_000 });
  return result.code === 0;
}
