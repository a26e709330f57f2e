/**
 * bench/wg-peers.ts — programming N WireGuard peers on a real wireguard-go: runos (the FULL desired set
 * as ONE transaction, src/agent/host/wireguard.ts) against the original RunOS agent (one
 * `wg set wg0 peer <key> allowed-ips <ip>/32 endpoint <ip>:51820 persistent-keepalive 5` process per peer).
 *
 *   node --import tsx bench/wg-peers.ts [--peers 1000] [--rounds 3] [--keepalive 0] [--prefix bwg]
 *
 * Root only. One lab host (`<prefix>-wg`, lab/README.md) runs `wireguard-go -f wg0` with a key, port
 * 51820, 172.24.0.1/16, link up, and only `lo` besides wg0: the peers' endpoints (198.18.A.B) have no
 * route, so nothing ever leaves the host. Every measured program runs INSIDE the host (one nsenter per
 * measurement, never one per peer). Per round and scenario, in an order rotated every round:
 *
 *   full         empty device -> N peers
 *   incremental  N peers -> 10 endpoints moved + 1 peer added (runos touches 11 peers)
 *
 * and per scenario these ways (the state before each is set with one `wg setconf`, not timed; after
 * each, `wg show wg0 dump` must list exactly the desired peers with their endpoint, allowed IPs and
 * keepalive):
 *
 *   runos-uapi     bench/wg/apply-runos.ts: the applyPeers call alone (UAPI get + diff + one UAPI set)
 *   runos-wg       the same port with the socket hidden: its kernel path, `wg show dump` + ONE `wg set`
 *   original-node  bench/wg/apply-original.ts: the sequential loop of 1-peer `wg set` processes
 *   original-sh    `/bin/sh` reading one `wg set` argv per line, timed by `date +%s%N` inside the loop
 *
 * The incremental scenario runs the original twice: only the 11 touched peers, and all N+1 (the
 * original re-sent every peer on each SET_VPN_PEERS). Prints a table (median and min of the rounds, ms)
 * and the ratios original/runos; the last stdout line is the whole result as JSON. Progress on stderr.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, release } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  downAll,
  downHost,
  ensurePackages,
  exec,
  execOk,
  hostPath,
  hostStatus,
  isAlive,
  type LabHost,
  type LabProcess,
  listHostNames,
  spawn,
  tearDownOnSignal,
  upHost,
  waitFor,
} from "../lab/index.js";
import type { ApplyPeersResult } from "../src/agent/host/wireguard.js";
import { type WgPeer, wgSetArgs } from "../src/agent/host/wireguard-plan.js";
import type { OriginalJob, OriginalReport, RunosJob, RunosPath, RunosReport } from "./wg/jobs.js";
import {
  argvBytes,
  dumpMismatches,
  IFACE,
  IFACE_CIDR,
  incrementalChange,
  LISTEN_PORT,
  MAX_PEERS,
  makePeers,
  originalArgv,
  wgConfig,
} from "./wg/peers.js";
import { fmt, median, minimum, round, table } from "./wg/report.js";

const REPO = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const KEY_FILE = "/etc/wireguard/bench.key";
const CHANGED_ENDPOINTS = 10;

/** The original's loop in plain sh: `wg <line>` per line (argv split on blanks, no globbing). */
const SH_LOOP = `set -f
t0=$(date +%s%N)
while IFS= read -r args; do
  wg $args || exit 1
done < "$1"
t1=$(date +%s%N)
echo $((t1 - t0))`;

interface Options {
  peers: number;
  rounds: number;
  keepalive: number;
  prefix: string;
}

type CaseKind = "runos-uapi" | "runos-wg" | "original-node" | "original-sh";

interface Case {
  id: string;
  label: string;
  kind: CaseKind;
  /** For the original ways: the job file (node) and the argv-per-line file (sh), and their length. */
  commands?: { json: string; lines: string; count: number };
}

interface Scenario {
  id: string;
  title: string;
  /** Puts the device in the scenario's starting state (one `wg setconf`), then checks it. */
  before: WgPeer[];
  beforeConf: string;
  desired: WgPeer[];
  runosJob: string;
  expect: Omit<ApplyPeersResult, "via">;
  cases: Case[];
}

interface Sample {
  ms: number;
  wallMs: number;
  startupMs: number | null;
  processes: number;
  maxArgvBytes: number | null;
}

interface CaseResult {
  id: string;
  label: string;
  kind: CaseKind;
  processes: number;
  roundsMs: number[];
  medianMs: number;
  minMs: number;
  /** The helper process from the harness: nsenter + node/tsx start-up + the measured part. */
  wallMedianMs: number;
  startupMedianMs: number | null;
  maxArgvBytes: number | null;
}

/** What the teardown must undo; filled in as the setup goes. */
interface State {
  hostName?: string;
  wireguard?: LabProcess;
  tmpDir?: string;
}

function say(text: string): void {
  process.stderr.write(`[wg-peers] ${text}\n`);
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      peers: { type: "string", default: "1000" },
      rounds: { type: "string", default: "3" },
      keepalive: { type: "string", default: "0" },
      prefix: { type: "string", default: "bwg" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      "usage: node --import tsx bench/wg-peers.ts [--peers 1000] [--rounds 3] [--keepalive 0|5] [--prefix bwg]\n",
    );
    process.exit(0);
  }
  const int = (name: string, text: string, min: number, max: number) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new Error(`--${name} must be an integer in [${min}, ${max}]`);
    return value;
  };
  return {
    peers: int("peers", values.peers, CHANGED_ENDPOINTS, MAX_PEERS),
    rounds: int("rounds", values.rounds, 1, 100),
    keepalive: int("keepalive", values.keepalive, 0, 65535),
    prefix: values.prefix,
  };
}

function machineInfo() {
  const run = (argv: string[]) => {
    try {
      const [cmd = "", ...args] = argv;
      return execFileSync(cmd, args, { encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  };
  return {
    nproc: availableParallelism(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown",
    kernel: release(),
    node: process.version,
    wireguardGo: run(["dpkg-query", "-W", "wireguard-go"]).replace("\t", " "),
    wireguardTools: run(["dpkg-query", "-W", "wireguard-tools"]).replace("\t", " "),
    argMax: Number(run(["getconf", "ARG_MAX"])),
    gitHead: run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]),
    loadAverage1mAtStart: round(loadavg()[0] ?? 0),
  };
}

const lastLine = (text: string) => text.trim().split("\n").at(-1) ?? "";

/** A host left by a SIGKILLed run is removed; one with live processes belongs to a running bench. */
async function removeLeftover(name: string): Promise<void> {
  if (!listHostNames().includes(name)) return;
  const busy = hostStatus(name).processes;
  if (busy.length > 0)
    throw new Error(`lab host ${name} is in use (PIDs ${busy.join(", ")}): another run? use --prefix`);
  say(`removing the leftover lab host ${name}`);
  await downHost(name);
}

async function startWireGuard(host: LabHost, state: State): Promise<string> {
  const privateKey = (await execOk(host, ["wg", "genkey"])).trim();
  writeFileSync(hostPath(host, KEY_FILE), `${privateKey}\n`, { mode: 0o600 });
  const wireguard = spawn(host, ["wireguard-go", "-f", IFACE], { cwd: "/", env: { LOG_LEVEL: "error" } });
  state.wireguard = wireguard;
  const socket = hostPath(host, `/run/wireguard/${IFACE}.sock`);
  await waitFor(`${IFACE} UAPI socket`, () => existsSync(socket) || wireguard.exited);
  if (wireguard.exited)
    throw new Error(`wireguard-go exited at start: ${readFileSync(wireguard.logFile, "utf8").trim()}`);
  await execOk(host, ["wg", "set", IFACE, "private-key", KEY_FILE, "listen-port", String(LISTEN_PORT)]);
  await execOk(host, ["ip", "addr", "add", IFACE_CIDR, "dev", IFACE]);
  await execOk(host, ["ip", "link", "set", IFACE, "up"]);
  return privateKey;
}

class Bench {
  private scenarioCount = 0;

  constructor(
    private readonly host: LabHost,
    private readonly dir: string,
    private readonly privateKey: string,
    private readonly options: Options,
  ) {}

  private file(name: string, content: string): string {
    const path = `${this.dir}/${name}`;
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  }

  private commandSet(name: string, peers: readonly WgPeer[]): NonNullable<Case["commands"]> {
    const commands = peers.map(originalArgv);
    if (commands.some((argv) => argv.some((arg) => /\s/.test(arg)))) throw new Error("blank in an argv");
    const job: OriginalJob = { commands };
    return {
      json: this.file(`${name}.json`, JSON.stringify(job)),
      lines: this.file(`${name}.txt`, `${commands.map((argv) => argv.slice(1).join(" ")).join("\n")}\n`),
      count: commands.length,
    };
  }

  /** Writes a scenario's files; `originals` are the peer lists the original way sends. */
  scenario(spec: {
    id: string;
    title: string;
    before: WgPeer[];
    desired: WgPeer[];
    previous: WgPeer[] | null;
    expect: Omit<ApplyPeersResult, "via">;
    originals: { suffix: string; note: string; peers: WgPeer[] }[];
    runosWg: boolean;
  }): Scenario {
    this.scenarioCount += 1;
    const tag = `s${this.scenarioCount}-${spec.id}`;
    const job: RunosJob = { desired: spec.desired, previous: spec.previous };
    const cases: Case[] = [
      { id: "runos-uapi", label: "runos applyPeers, UAPI: 1 transaction", kind: "runos-uapi" },
    ];
    if (spec.runosWg)
      cases.push({ id: "runos-wg", label: "runos applyPeers, wg path: dump + 1 wg set", kind: "runos-wg" });
    for (const original of spec.originals) {
      const commands = this.commandSet(`${tag}-original${original.suffix}`, original.peers);
      cases.push(
        {
          id: `original-node${original.suffix}`,
          label: `original: 1 wg set per peer${original.note}, node loop`,
          kind: "original-node",
          commands,
        },
        {
          id: `original-sh${original.suffix}`,
          label: `original: 1 wg set per peer${original.note}, sh loop`,
          kind: "original-sh",
          commands,
        },
      );
    }
    return {
      id: spec.id,
      title: spec.title,
      before: spec.before,
      beforeConf: this.file(`${tag}-before.conf`, wgConfig(this.privateKey, spec.before)),
      desired: spec.desired,
      runosJob: this.file(`${tag}-runos.json`, JSON.stringify(job)),
      expect: spec.expect,
      cases,
    };
  }

  private timeoutFor(processes: number): number {
    return Math.max(60_000, processes * 200);
  }

  /** Runs a helper inside the host; its last stdout line is its JSON report. */
  private async helper<T>(argv: string[], timeoutMs: number): Promise<{ report: T; wallMs: number }> {
    const result = await exec(this.host, argv, { cwd: REPO, timeoutMs });
    if (result.code !== 0) {
      const how = result.timedOut ? "timed out" : `exited ${result.code ?? result.signal}`;
      throw new Error(`in ${this.host.name}: ${argv.slice(-3).join(" ")} ${how}: ${result.stderr.trim()}`);
    }
    return { report: JSON.parse(lastLine(result.stdout)) as T, wallMs: result.durationMs };
  }

  async reset(scenario: Scenario): Promise<void> {
    await execOk(this.host, ["wg", "setconf", IFACE, scenario.beforeConf], { cwd: REPO });
    await this.verify(scenario.before, "before");
  }

  async verify(expected: readonly WgPeer[], when: string): Promise<void> {
    const dump = await execOk(this.host, ["wg", "show", IFACE, "dump"], { cwd: REPO, timeoutMs: 30_000 });
    const problems = dumpMismatches(dump, expected);
    if (problems.length > 0) throw new Error(`${IFACE} ${when}: ${problems.join("; ")}`);
  }

  async measure(scenario: Scenario, c: Case): Promise<Sample> {
    const tsx = [process.execPath, "--import", "tsx"];
    if (c.kind === "runos-uapi" || c.kind === "runos-wg") {
      const path: RunosPath = c.kind === "runos-uapi" ? "uapi" : "wg";
      const { report, wallMs } = await this.helper<RunosReport>(
        [...tsx, `${REPO}/bench/wg/apply-runos.ts`, scenario.runosJob, path],
        this.timeoutFor(scenario.desired.length),
      );
      const { via: _via, ...counts } = report.result;
      if (JSON.stringify(counts) !== JSON.stringify(scenario.expect))
        throw new Error(
          `${c.id}: applyPeers did ${JSON.stringify(counts)}, want ${JSON.stringify(scenario.expect)}`,
        );
      return {
        ms: report.applyMs,
        wallMs,
        startupMs: report.startupMs,
        processes: report.processes,
        maxArgvBytes: report.maxArgvBytes,
      };
    }
    const commands = c.commands;
    if (!commands) throw new Error(`${c.id}: no commands`);
    if (c.kind === "original-node") {
      const { report, wallMs } = await this.helper<OriginalReport>(
        [...tsx, `${REPO}/bench/wg/apply-original.ts`, commands.json],
        this.timeoutFor(commands.count),
      );
      return {
        ms: report.loopMs,
        wallMs,
        startupMs: report.startupMs,
        processes: report.processes,
        maxArgvBytes: null,
      };
    }
    const { report, wallMs } = await this.helper<number>(
      ["/bin/sh", "-c", SH_LOOP, "sh", commands.lines],
      this.timeoutFor(commands.count),
    );
    return { ms: report / 1e6, wallMs, startupMs: null, processes: commands.count, maxArgvBytes: null };
  }

  /** One measurement: starting state (not timed), the way under test, the check. */
  async sample(scenario: Scenario, c: Case): Promise<Sample> {
    await this.reset(scenario);
    const sample = await this.measure(scenario, c);
    await this.verify(scenario.desired, `after ${scenario.id}/${c.id}`);
    return sample;
  }

  /** Every case of every scenario, `rounds` times; the case order rotates each round. */
  async run(scenarios: readonly Scenario[]): Promise<Map<Scenario, Map<Case, Sample[]>>> {
    const samples = new Map(scenarios.map((s) => [s, new Map(s.cases.map((c) => [c, [] as Sample[]]))]));
    for (let r = 0; r < this.options.rounds; r++) {
      for (const scenario of scenarios) {
        const k = r % scenario.cases.length;
        for (const c of [...scenario.cases.slice(k), ...scenario.cases.slice(0, k)]) {
          const sample = await this.sample(scenario, c);
          samples.get(scenario)?.get(c)?.push(sample);
          say(
            `round ${r + 1}/${this.options.rounds} ${scenario.id} ${c.id}: ${fmt(sample.ms)} ms` +
              ` (${sample.processes} processes, helper wall ${sample.wallMs} ms)`,
          );
        }
      }
    }
    return samples;
  }
}

function summariseCase(c: Case, samples: readonly Sample[]): CaseResult {
  const ms = samples.map((s) => s.ms);
  const startups = samples.flatMap((s) => (s.startupMs === null ? [] : [s.startupMs]));
  const argv = samples.flatMap((s) => (s.maxArgvBytes === null ? [] : [s.maxArgvBytes]));
  return {
    id: c.id,
    label: c.label,
    kind: c.kind,
    processes: samples[0]?.processes ?? 0,
    roundsMs: ms.map((v) => round(v)),
    medianMs: round(median(ms)),
    minMs: round(minimum(ms)),
    wallMedianMs: round(median(samples.map((s) => s.wallMs))),
    startupMedianMs: startups.length > 0 ? round(median(startups)) : null,
    maxArgvBytes: argv.length > 0 ? Math.max(...argv) : null,
  };
}

interface Ratio {
  original: string;
  runos: string;
  medianRatio: number;
  minRatio: number;
}

function ratios(cases: readonly CaseResult[]): Ratio[] {
  const out: Ratio[] = [];
  for (const original of cases.filter((c) => c.kind.startsWith("original")))
    for (const runos of cases.filter((c) => c.kind.startsWith("runos")))
      out.push({
        original: original.id,
        runos: runos.id,
        medianRatio: round(original.medianMs / runos.medianMs, 1),
        minRatio: round(original.minMs / runos.minMs, 1),
      });
  return out;
}

async function cleanUp(state: State): Promise<{ wireguardGoStopped: boolean; hostRemoved: boolean }> {
  let wireguardGoStopped = true;
  if (state.wireguard) {
    await state.wireguard.stop({ timeoutMs: 3_000 });
    wireguardGoStopped = !isAlive(state.wireguard.pid);
  }
  if (state.hostName) {
    // By exact name; downAll first waits for an upHost still in flight (Ctrl-C during the setup).
    await downAll(state.hostName);
  }
  if (state.tmpDir) rmSync(state.tmpDir, { recursive: true, force: true });
  const hostRemoved = !state.hostName || !listHostNames().includes(state.hostName);
  return { wireguardGoStopped, hostRemoved };
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (process.getuid?.() !== 0) throw new Error("root only (lab namespaces)");
  await ensurePackages(say);
  const machine = machineInfo();
  say(`${machine.cpuModel}, ${machine.nproc} CPUs, node ${machine.node}, ${machine.wireguardGo}`);

  const state: State = {};
  let cleanup: Promise<Awaited<ReturnType<typeof cleanUp>>> | undefined;
  const tearDown = () => {
    cleanup ??= cleanUp(state);
    return cleanup;
  };
  const removeSignalHandlers = tearDownOnSignal(tearDown);

  let output: { text: string; json: unknown } | undefined;
  try {
    const hostName = `${options.prefix}-wg`;
    await removeLeftover(hostName);
    state.hostName = hostName;
    const host = await upHost(hostName, { hostname: options.prefix });
    state.tmpDir = mkdtempSync("/tmp/runos-bench-wg-");
    const privateKey = await startWireGuard(host, state);
    const links = (await execOk(host, ["ip", "-o", "link", "show"])).match(/^\d+: [^:@]+/gm) ?? [];
    const routes = (await execOk(host, ["ip", "-4", "route", "show"])).trim();
    say(
      `host ${host.name}: wireguard-go pid ${state.wireguard?.pid}; links ${links.join(", ")}; routes: ${routes}`,
    );

    const base = makePeers(options.peers, options.keepalive);
    const change = incrementalChange(base, CHANGED_ENDPOINTS, options.keepalive);
    const env = Object.entries(process.env).reduce(
      (sum, [k, v]) => sum + Buffer.byteLength(`${k}=${v}`) + 1,
      0,
    );
    const wgArgv = ["wg", "set", IFACE, ...wgSetArgs(base.map((peer) => ({ kind: "add" as const, peer })))];
    const wgSetArgvBytes = argvBytes(wgArgv);
    const runosWg = wgSetArgvBytes + env < machine.argMax;
    say(
      `one wg set for ${base.length} peers: ${wgArgv.length} args, ${wgSetArgvBytes} bytes + env ${env} ` +
        `(ARG_MAX ${machine.argMax})${runosWg ? "" : ": too long, the runos wg path is skipped"}`,
    );

    const bench = new Bench(host, state.tmpDir, privateKey, options);
    const full = bench.scenario({
      id: "full",
      title: `full: 0 -> ${base.length} peers`,
      before: [],
      desired: base,
      previous: null,
      expect: { added: base.length, updated: 0, removed: 0, unchanged: 0 },
      originals: [{ suffix: "", note: "", peers: base }],
      runosWg,
    });
    const incremental = bench.scenario({
      id: "incremental",
      title: `incremental: ${base.length} peers, ${change.changed} endpoints moved + ${change.added} added`,
      before: base,
      desired: change.desired,
      previous: base,
      expect: {
        added: change.added,
        updated: change.changed,
        removed: 0,
        unchanged: base.length - change.changed,
      },
      originals: [
        { suffix: "-touched", note: ` (${change.touched.length} touched)`, peers: change.touched },
        { suffix: "-resend", note: ` (all ${change.desired.length} re-sent)`, peers: change.desired },
      ],
      runosWg,
    });
    // Warm-up, discarded: page cache for node/tsx/wg, tsx's transpile cache.
    const warmPeers = base.slice(0, CHANGED_ENDPOINTS);
    const warm = bench.scenario({
      id: "warm-up",
      title: "warm-up",
      before: [],
      desired: warmPeers,
      previous: null,
      expect: { added: warmPeers.length, updated: 0, removed: 0, unchanged: 0 },
      originals: [{ suffix: "", note: "", peers: warmPeers }],
      runosWg: true,
    });
    for (const c of warm.cases) await bench.sample(warm, c);
    say("warm-up done");

    const samples = await bench.run([full, incremental]);
    const results = [full, incremental].map((scenario) => {
      const cases = scenario.cases.map((c) => summariseCase(c, samples.get(scenario)?.get(c) ?? []));
      return { id: scenario.id, title: scenario.title, cases, ratios: ratios(cases) };
    });

    const header = [
      "way",
      "procs",
      "median ms",
      "min ms",
      "rounds ms",
      "helper wall ms",
      "start-up ms",
      "x runos-uapi",
    ];
    const blocks = results.map((s) => {
      const uapi = s.cases.find((c) => c.kind === "runos-uapi");
      const rows = s.cases.map((c) => [
        c.id,
        String(c.processes),
        fmt(c.medianMs),
        fmt(c.minMs),
        c.roundsMs.map(fmt).join(" "),
        fmt(c.wallMedianMs),
        c.startupMedianMs === null ? "-" : fmt(c.startupMedianMs),
        uapi ? `${round(c.medianMs / uapi.medianMs, 1)}` : "-",
      ]);
      const ratioLines = s.ratios.map(
        (r) => `  ${r.original} / ${r.runos}: ${r.medianRatio}x (median), ${r.minRatio}x (min)`,
      );
      const legend = s.cases.map((c) => `  ${c.id}: ${c.label}`);
      return [s.title, table(header, rows), ...legend, "ratio original/runos:", ...ratioLines].join("\n");
    });
    const loadAverage1mAtEnd = round(loadavg()[0] ?? 0);
    const text = [
      `wg-peers: ${options.peers} peers, ${options.rounds} rounds, keepalive ${options.keepalive || "off"}, ` +
        `${machine.nproc} CPUs (${machine.cpuModel}), node ${machine.node}, ${machine.wireguardGo}, ` +
        `${machine.wireguardTools}, kernel ${machine.kernel}, load ${machine.loadAverage1mAtStart} -> ${loadAverage1mAtEnd}`,
      "ms = the measured part only: runos = the applyPeers call; original = the whole loop. helper wall = the",
      "helper process seen from the harness (nsenter + node/tsx start-up + the measured part).",
      "",
      blocks.join("\n\n"),
    ].join("\n");
    output = {
      text,
      json: {
        bench: "wg-peers",
        options,
        machine: { ...machine, loadAverage1mAtEnd },
        wgSetArgvBytes,
        envBytes: env,
        verified:
          "after every apply, wg show wg0 dump == the desired peers (count, endpoint, allowed IPs, keepalive)",
        scenarios: results,
      },
    };
  } finally {
    const done = await tearDown();
    removeSignalHandlers();
    say(`cleanup: wireguard-go stopped ${done.wireguardGoStopped}, lab host removed ${done.hostRemoved}`);
    if (!done.wireguardGoStopped || !done.hostRemoved) process.exitCode = 1;
  }
  process.stdout.write(`${output.text}\n${JSON.stringify(output.json)}\n`);
}

main().catch((error: unknown) => {
  say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
