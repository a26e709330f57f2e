// `node --import tsx lab/cli.ts up|down|status|exec|add|remove`: the lab from a shell.
// Data goes to stdout, diagnostics to stderr.
import { parseArgs } from "node:util";
import { SEGMENT_NAMES, type SegmentName } from "./address-plan.js";
import { downAll, exec, hostStatus, listHostNames } from "./host.js";
import { ensurePackages } from "./packages.js";
import { type LabHost, labHost } from "./paths.js";
import { exitCodeFor, onTerminationSignal } from "./signals.js";
import {
  addTopologyHost,
  createTopology,
  DEFAULT_PREFIX,
  loadTopology,
  removeTopologyHost,
  type Topology,
  topologyRouters,
} from "./topology.js";

const USAGE = `usage: node --import tsx lab/cli.ts COMMAND [--prefix P]
  up [--no-install]          build the lab topology and leave it running
  down                       tear down the lab of this prefix
  down --all                 tear down every labhost-* on this machine (after a crash)
  status [--json]            hosts, addresses, namespaces and processes
  exec HOST -- CMD [ARG...]  run CMD inside HOST (short name like a1, or a lab host name)
  add HOST SEGMENT [--ip IP] add a host to a running lab (SEGMENT: ${SEGMENT_NAMES.join(", ")})
  remove HOST                remove a host from a running lab
The prefix (default ${DEFAULT_PREFIX}, or $LAB_PREFIX) names the lab: its hosts are labhost-PREFIX-NAME.`;

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const dashDash = argv.indexOf("--");
  const own = dashDash >= 0 ? argv.slice(0, dashDash) : argv;
  const command = dashDash >= 0 ? argv.slice(dashDash + 1) : [];
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      prefix: { type: "string", default: process.env.LAB_PREFIX ?? DEFAULT_PREFIX },
      all: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      "no-install": { type: "boolean", default: false },
      ip: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [verb, ...rest] = positionals;
  if (values.help || !verb) {
    process.stdout.write(`${USAGE}\n`);
    return verb || values.help ? 0 : 2;
  }
  if (process.getuid?.() !== 0) {
    log("lab: must run as root (network, mount and uts namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)");
    return 1;
  }
  const prefix = values.prefix;
  switch (verb) {
    case "up":
      return up(prefix, !values["no-install"]);
    case "down":
      log(`lab: removed ${(await downAll(values.all ? "*" : `${prefix}-*`)).join(" ") || "nothing"}`);
      return 0;
    case "status":
      return status(prefix, values.json);
    case "exec":
      return execIn(prefix, rest[0], command);
    case "add":
      return add(prefix, rest[0], rest[1], values.ip);
    case "remove":
      await removeTopologyHost(requireTopology(prefix), rest[0] ?? "");
      return 0;
    default:
      log(`lab: unknown command ${verb}\n${USAGE}`);
      return 2;
  }
}

async function up(prefix: string, install: boolean): Promise<number> {
  if (loadTopology(prefix)) {
    log(`lab: the lab ${prefix} is already up (\`down\` first)`);
    return 1;
  }
  if (install) await ensurePackages(log);
  const leftovers = await downAll(`${prefix}-*`);
  if (leftovers.length > 0) log(`lab: removed leftovers of a crashed run: ${leftovers.join(" ")}`);
  const controller = new AbortController();
  let signalled: "SIGINT" | "SIGTERM" | "SIGHUP" | null = null;
  const off = onTerminationSignal((signal) => {
    signalled = signal;
    controller.abort(new Error(`interrupted by ${signal}`));
  });
  try {
    const topo = await createTopology({ prefix, signal: controller.signal, log });
    printTopology(topo);
    return 0;
  } catch (error) {
    if (signalled) return exitCodeFor(signalled); // createTopology rolled back already
    throw error;
  } finally {
    off();
  }
}

function printTopology(topo: Topology): void {
  const rows = [
    ["HOST", "SEGMENT", "IP", "GATEWAY", "SEEN-AS", "LAB-HOST"],
    ...Object.values(topo.hosts).map((h) => [
      h.name,
      h.segment,
      h.ip,
      h.gateway ?? "-",
      h.publicIp,
      h.host.name,
    ]),
    ...topologyRouters(topo).map((r) => [
      r.name,
      `router:${r.segment}`,
      `${r.publicIp},${r.lanIp}`,
      "-",
      r.publicIp,
      r.host.name,
    ]),
  ];
  printTable(rows);
}

function printTable(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  for (const row of rows)
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
}

function status(prefix: string, json: boolean): number {
  const topo = loadTopology(prefix);
  const hosts = listHostNames().map(hostStatus);
  if (json) {
    process.stdout.write(`${JSON.stringify({ topology: topo, hosts }, null, 2)}\n`);
    return 0;
  }
  if (topo) printTopology(topo);
  else log(`lab: no topology with prefix ${prefix} is up`);
  process.stdout.write("\n");
  const yesNo = (b: boolean) => (b ? "yes" : "no");
  printTable([
    ["LAB-HOST", "NETNS", "MOUNT-NS", "DIR", "PROCESSES"],
    ...hosts.map((h) => [
      h.name,
      yesNo(h.netns),
      yesNo(h.mountNs),
      yesNo(h.dir),
      h.processes.join(",") || "-",
    ]),
  ]);
  return 0;
}

function requireTopology(prefix: string): Topology {
  const topo = loadTopology(prefix);
  if (!topo) throw new Error(`lab: no topology with prefix ${prefix} is up (run \`up\` first)`);
  return topo;
}

function resolveHost(prefix: string, name: string): LabHost {
  const topo = loadTopology(prefix);
  const known = topo?.hosts[name]?.host;
  if (known) return known;
  const router = topo && topologyRouters(topo).find((r) => r.name === name);
  if (router) return router.host;
  if (listHostNames().includes(`${prefix}-${name}`)) return labHost(`${prefix}-${name}`);
  if (listHostNames().includes(name)) return labHost(name);
  throw new Error(`lab: no host ${name} (see \`status\`)`);
}

async function execIn(prefix: string, name: string | undefined, command: string[]): Promise<number> {
  if (!name || command.length === 0) {
    log("lab: usage: exec HOST -- CMD [ARG...]");
    return 2;
  }
  const host = resolveHost(prefix, name);
  const result = await exec(host, command, { inherit: true, timeoutMs: 24 * 3600_000 });
  if (result.code === 127 && result.stderr) log(result.stderr);
  return result.code ?? 128;
}

async function add(prefix: string, name: string | undefined, segment: string | undefined, ip?: string) {
  if (!name || !SEGMENT_NAMES.includes(segment as SegmentName)) {
    log(`lab: usage: add HOST SEGMENT [--ip IP] (SEGMENT: ${SEGMENT_NAMES.join(", ")})`);
    return 2;
  }
  const h = await addTopologyHost(requireTopology(prefix), { name, segment: segment as SegmentName, ip });
  process.stdout.write(`${h.name} ${h.segment} ${h.ip} ${h.host.name}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
