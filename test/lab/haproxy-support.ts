// Helpers of the HAProxy lab test: TLS stand-ins for API servers, a load client that opens a new TLS
// connection per request, HAProxy's runtime state read through the host's admin socket, and the
// nodeward API and enrolment reached from the VM through relays.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  exec,
  exposeHostPort,
  hostPath,
  type LabHost,
  type LabProcess,
  spawn,
  waitFor,
} from "../../lab/index.js";
import type { RunosLab } from "../../lab/runos-cluster.js";
import {
  haproxyCommand,
  type LiveServer,
  parseShowProc,
  parseShowStat,
} from "../../src/agent/host/haproxy-socket.js";
import { generateNodeKeyAndCsr } from "../../src/common/pki.js";
import { Nodeward as L1Service } from "../../src/wire/gen/runos/nodeward/proto/l1sec/nodeward_l1sec_pb.js";
import { createTypedClient, grpc } from "../../src/wire/grpc.js";
import type { LabApi } from "./nodeward-api.js";

export const NODE = process.execPath;

/** A self-signed P-256 certificate for the stand-ins, in a directory every host sees (/tmp is shared). */
export function makeTlsDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-tls-`));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=kube-apiserver",
    ],
    { stdio: "ignore" },
  );
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// An API server stand-in: HTTPS, every request (health checks included) answered 200 with its name.
const BACKEND = `const [name, ip, port, dir] = process.argv.slice(1);
const fs = require("node:fs");
require("node:https").createServer(
  { key: fs.readFileSync(dir + "/key.pem"), cert: fs.readFileSync(dir + "/cert.pem") },
  (req, res) => { res.setHeader("connection", "close"); res.end(name); },
).listen(Number(port), ip, () => console.log("listening"));`;

export async function startBackend(
  host: LabHost,
  name: string,
  ip: string,
  port: number,
  tlsDir: string,
): Promise<LabProcess> {
  const proc = spawn(host, [NODE, "-e", BACKEND, name, ip, String(port), tlsDir], { cwd: "/" });
  await waitFor(`backend ${name}`, () => readFileSync(proc.logFile, "utf8").includes("listening"), {
    timeoutMs: 10_000,
  });
  return proc;
}

// The load client: `concurrency` loops, each a fresh TCP+TLS connection per request to 127.0.0.1:6446,
// until SIGTERM (or the cap); then one line `RESULT {json}` with every outcome and its time.
const LOAD = `const [concurrency, capMs] = process.argv.slice(1).map(Number);
const https = require("node:https");
const events = [];
let stopping = false;
const one = () => new Promise((resolve) => {
  const t = Date.now();
  const req = https.get({ host: "127.0.0.1", port: 6446, path: "/", agent: false, rejectUnauthorized: false, timeout: 5000 }, (res) => {
    let body = "";
    res.on("data", (d) => (body += d));
    res.on("end", () => { events.push([t, "ok", body]); resolve(); });
    res.on("error", (e) => { events.push([t, e.code || e.message]); resolve(); });
  });
  req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
  req.on("error", (e) => { events.push([t, e.code || e.message]); resolve(); });
});
const loop = async () => { while (!stopping) await one(); };
const loops = Array.from({ length: concurrency }, loop);
const finish = async () => {
  stopping = true;
  await Promise.all(loops);
  process.stdout.write("RESULT " + JSON.stringify(events) + "\\n", () => process.exit(0));
};
process.on("SIGTERM", finish);
setTimeout(finish, capMs);
console.log("started");`;

export interface LoadReport {
  made: number;
  ok: number;
  failed: number;
  /** Connections reset by the peer (or closed before the TLS handshake finished). */
  reset: number;
  refused: number;
  other: number;
  /** [time, outcome, backend name for "ok"] per request. */
  events: [number, string, string?][];
}

export interface LoadClient {
  stop(): Promise<LoadReport>;
}

export async function startLoad(host: LabHost, concurrency = 4, capMs = 30_000): Promise<LoadClient> {
  const proc = spawn(host, [NODE, "-e", LOAD, String(concurrency), String(capMs)], { cwd: "/" });
  await waitFor("load client", () => readFileSync(proc.logFile, "utf8").includes("started"), {
    timeoutMs: 10_000,
  });
  return {
    async stop() {
      await proc.stop({ signal: "SIGTERM", timeoutMs: 10_000 });
      const line = readFileSync(proc.logFile, "utf8")
        .split("\n")
        .find((l) => l.startsWith("RESULT "));
      if (!line) throw new Error(`load client printed no result: ${readFileSync(proc.logFile, "utf8")}`);
      return summarise(JSON.parse(line.slice(7)) as LoadReport["events"]);
    },
  };
}

const resetCodes = new Set([
  "ECONNRESET",
  "EPIPE",
  "Client network socket disconnected before secure TLS connection was established",
  "socket hang up",
]);

export function summarise(events: LoadReport["events"]): LoadReport {
  const count = (pred: (e: LoadReport["events"][number]) => boolean) => events.filter(pred).length;
  const ok = count((e) => e[1] === "ok");
  const reset = count((e) => resetCodes.has(e[1]));
  const refused = count((e) => e[1] === "ECONNREFUSED");
  return {
    made: events.length,
    ok,
    failed: events.length - ok,
    reset,
    refused,
    other: events.length - ok - reset - refused,
    events,
  };
}

export function describeLoad(label: string, r: LoadReport): string {
  const by = new Map<string, number>();
  for (const [, outcome, name] of r.events)
    if (outcome === "ok") by.set(name ?? "", (by.get(name ?? "") ?? 0) + 1);
  const spread = [...by]
    .sort()
    .map(([n, c]) => `${n}=${c}`)
    .join(" ");
  return `${label}: ${r.made} connections made, ${r.failed} failed (${r.reset} reset, ${r.refused} refused, ${r.other} other); ok by backend: ${spread}`;
}

/** HAProxy's live servers through the host's admin socket (reachable from the VM by path). */
export async function liveServers(host: LabHost): Promise<LiveServer[]> {
  return parseShowStat(await haproxyCommand(hostPath(host, "/run/haproxy/admin.sock"), "show stat", 2_000));
}

export async function masterState(host: LabHost) {
  return parseShowProc(await haproxyCommand(hostPath(host, "/run/haproxy/master.sock"), "show proc", 2_000));
}

/** Polls the admin socket until `ready` holds for the live servers; returns how long it took. */
export async function waitForServers(
  host: LabHost,
  what: string,
  ready: (servers: LiveServer[]) => boolean,
  timeoutMs = 15_000,
): Promise<number> {
  const started = Date.now();
  let last: LiveServer[] = [];
  while (Date.now() - started < timeoutMs) {
    last = await liveServers(host).catch(() => []);
    if (ready(last)) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting until ${what}: ${JSON.stringify(last.map((s) => [s.name, s.status]))}`);
}

export const isUp = (s: LiveServer) => s.status === "UP";

/** Waits until the agent with this PID has its stream up and nodeward's hello answered. */
export async function agentConnected(
  host: LabHost,
  pid: number | undefined,
  timeoutMs = 30_000,
): Promise<void> {
  const stateFile = hostPath(host, "/run/runos/state.json");
  await waitFor(
    "agent connected",
    () => {
      if (!existsSync(stateFile)) return false;
      const state = JSON.parse(readFileSync(stateFile, "utf8")) as {
        pid?: number;
        connected?: boolean;
        nodewardCapabilities?: string[];
      };
      return state.pid === pid && state.connected === true && (state.nodewardCapabilities ?? []).length > 0;
    },
    { timeoutMs, everyMs: 100 },
  );
}

export { openNodewardApi as nodewardApi } from "./nodeward-api.js";

/**
 * Enrols `count` nodes that stand for control-plane machines (no agent): through the L1Sec port,
 * relayed from the VM, with node-made keys, like `runos register` does. Returns nid and overlay IP.
 */
export async function enrolStandIns(
  lab: RunosLab,
  api: LabApi,
  count: number,
): Promise<{ nid: string; overlayIp: string }[]> {
  const host = lab.nodewardHost;
  const relay = await exposeHostPort(host.host, { ip: host.ip, port: 9191 });
  const ca = (await exec(host.host, ["cat", "/var/lib/nodeward/ca.crt"])).stdout;
  const client = createTypedClient(
    L1Service,
    `unix:${relay.socketPath}`,
    grpc.credentials.createSsl(Buffer.from(ca)),
    {
      "grpc.ssl_target_name_override": "nodeward",
      "grpc.default_authority": "nodeward",
      "grpc.enable_http_proxy": 0,
      "grpc.use_local_subchannel_pool": 1,
    },
  );
  try {
    const grant = await api.call<{ token: string }>("POST", "/tokens", {
      aid: "lab",
      cluster: "demo",
      uses: count,
    });
    const nodes = [];
    for (let i = 1; i <= count; i++) {
      const { csrPem } = await generateNodeKeyAndCsr("runos-node");
      const response = await client.register({
        machineId: `standin-${i}-${Math.random().toString(16).slice(2)}`,
        aid: "lab",
        token: grant.token,
        os: "debian-12",
        csr: csrPem,
        hostname: `cp${i}`,
      });
      const view = await api.call<{ overlayIp: string }>("GET", `/nodes/${response.nid}`);
      nodes.push({ nid: response.nid, overlayIp: view.overlayIp });
    }
    return nodes;
  } finally {
    client.close();
    await relay.close();
  }
}
