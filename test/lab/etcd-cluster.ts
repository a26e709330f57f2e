// A real etcd 3.4 cluster with TLS on loopback for the lab tests: a throw-away CA and member
// certificates made with openssl (peers need serverAuth + clientAuth), one process per member on
// its own 127.0.0.x address, data in a temp dir. Every process is started with
// `setpriv --pdeathsig KILL` and killed by PID in destroy(), so nothing outlives the test.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makePki } from "./etcd-pki.js";

export interface LabMember {
  name: string;
  ip: string;
}

export interface RunningMember extends LabMember {
  clientUrl: string;
  peerUrl: string;
  process: ChildProcess | undefined;
}

export interface ClusterOptions {
  members: LabMember[];
  /** Client port; the peer port is the next one. Same ports on every member (different IPs). */
  clientPort: number;
  /** etcd's default (on) unless false. */
  strictReconfigCheck?: boolean;
}

const allPids = new Set<number>();
let exitHook = false;

/** Whether this machine can run the etcd lab tests, or why not. */
export function etcdLabSkipReason(): string | false {
  if (process.platform !== "linux") return "needs Linux";
  for (const tool of ["etcd", "etcdctl", "openssl", "setpriv"]) {
    try {
      execFileSync("which", [tool], { stdio: "ignore" });
    } catch {
      return `${tool} is not installed (bash scripts/setup.sh)`;
    }
  }
  return false;
}

export class EtcdLabCluster {
  readonly members: RunningMember[];
  /** Where runos finds kubeadm's etcd PKI: <root>/etc/kubernetes/pki/etcd/... (RUNOS_ROOT). */
  readonly root: string;
  readonly pki: string;
  private readonly dataDir: string;

  constructor(private readonly options: ClusterOptions) {
    sweepStaleDirs();
    this.root = mkdtempSync(join(tmpdir(), dirPrefix));
    writeFileSync(join(this.root, "owner.pid"), String(process.pid));
    this.pki = join(this.root, "etc/kubernetes/pki/etcd");
    this.dataDir = join(this.root, "data");
    this.members = options.members.map((m) => ({
      ...m,
      clientUrl: `https://${m.ip}:${options.clientPort}`,
      peerUrl: `https://${m.ip}:${options.clientPort + 1}`,
      process: undefined,
    }));
    if (!exitHook) {
      exitHook = true;
      process.on("exit", () => {
        for (const pid of allPids) killQuietly(pid);
      });
    }
  }

  endpoints(members: RunningMember[] = this.members): string {
    return members.map((m) => m.clientUrl).join(",");
  }

  member(name: string): RunningMember {
    const member = this.members.find((m) => m.name === name);
    if (!member) throw new Error(`no member ${name}`);
    return member;
  }

  async start(): Promise<void> {
    mkdirSync(this.pki, { recursive: true });
    mkdirSync(this.dataDir, { recursive: true });
    makePki(this.pki, this.members);
    const initial = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
    for (const member of this.members) {
      const cert = join(this.pki, `${member.name}.crt`);
      const key = join(this.pki, `${member.name}.key`);
      const ca = join(this.pki, "ca.crt");
      const argv = [
        "--name",
        member.name,
        "--data-dir",
        join(this.dataDir, member.name),
        "--listen-client-urls",
        member.clientUrl,
        "--advertise-client-urls",
        member.clientUrl,
        "--listen-peer-urls",
        member.peerUrl,
        "--initial-advertise-peer-urls",
        member.peerUrl,
        "--initial-cluster",
        initial,
        "--initial-cluster-state",
        "new",
        "--initial-cluster-token",
        `runos-lab-${this.options.clientPort}`,
        ...["--cert-file", cert, "--key-file", key, "--trusted-ca-file", ca, "--client-cert-auth"],
        ...[
          "--peer-cert-file",
          cert,
          "--peer-key-file",
          key,
          "--peer-trusted-ca-file",
          ca,
          "--peer-client-cert-auth",
        ],
        ...["--heartbeat-interval", "50", "--election-timeout", "500"],
        `--strict-reconfig-check=${this.options.strictReconfigCheck !== false}`,
        ...["--logger", "zap", "--log-level", "warn"],
      ];
      const log = openSync(join(this.root, `${member.name}.log`), "a");
      try {
        const child = spawn("setpriv", ["--pdeathsig", "KILL", "--", "etcd", ...argv], {
          stdio: ["ignore", log, log],
          env: cleanEnv(),
        });
        member.process = child;
        if (child.pid) allPids.add(child.pid);
      } finally {
        closeSync(log);
      }
    }
    await this.waitHealthy(this.members, 20_000);
  }

  /** etcdctl as an operator would run it (client certificate = kubeadm's healthcheck-client). */
  etcdctl(
    endpoints: string,
    args: string[],
    timeoutMs = 10_000,
  ): { code: number; stdout: string; stderr: string } {
    try {
      const stdout = execFileSync(
        "etcdctl",
        [
          `--endpoints=${endpoints}`,
          `--cacert=${join(this.pki, "ca.crt")}`,
          `--cert=${join(this.pki, "healthcheck-client.crt")}`,
          `--key=${join(this.pki, "healthcheck-client.key")}`,
          "--dial-timeout=2s",
          "--command-timeout=3s",
          ...args,
        ],
        { encoding: "utf8", timeout: timeoutMs, env: { ...cleanEnv(), ETCDCTL_API: "3" }, stdio: "pipe" },
      );
      return { code: 0, stdout, stderr: "" };
    } catch (err) {
      const e = err as { status?: number; stdout?: string; stderr?: string };
      return { code: e.status ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  }

  async waitHealthy(members: RunningMember[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = this.etcdctl(this.endpoints(members), ["endpoint", "health"]);
      if (result.code === 0) return;
      if (Date.now() > deadline) throw new Error(`etcd lab cluster not healthy: ${result.stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The current leader's name, from etcdctl's own JSON (decimal ids compared as text). */
  leaderName(members: RunningMember[] = this.members.filter((m) => this.isRunning(m))): string | undefined {
    const status = this.etcdctl(this.endpoints(members), ["endpoint", "status", "-w", "json"]);
    const leader = /"leader":(\d+)/.exec(status.stdout)?.[1];
    const list = this.etcdctl(this.endpoints(members), ["member", "list", "-w", "json"]).stdout;
    return [...list.matchAll(/"ID":(\d+),"name":"([^"]*)"/g)].find((m) => m[1] === leader)?.[2];
  }

  memberNames(members: RunningMember[]): string[] {
    const list = this.etcdctl(this.endpoints(members), ["member", "list", "-w", "json"]).stdout;
    return [...list.matchAll(/"name":"([^"]*)"/g)].map((m) => m[1] ?? "").sort();
  }

  isRunning(member: RunningMember): boolean {
    return (
      member.process !== undefined && member.process.exitCode === null && member.process.signalCode === null
    );
  }

  /** Waits for the member's process to exit (a removed member stops by itself). */
  async waitExit(member: RunningMember, timeoutMs: number): Promise<boolean> {
    const child = member.process;
    if (!child || !this.isRunning(member)) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async kill(member: RunningMember): Promise<void> {
    const pid = member.process?.pid;
    if (pid === undefined) return;
    if (this.isRunning(member)) {
      const exited = this.waitExit(member, 5_000);
      killQuietly(pid);
      await exited;
    }
    allPids.delete(pid);
  }

  /** Kills every member this cluster started (by PID) and removes the temp dir. */
  async destroy(): Promise<void> {
    for (const member of this.members) await this.kill(member);
    if (existsSync(this.root)) rmSync(this.root, { recursive: true, force: true });
  }
}

const dirPrefix = "runos-etcdlab-";

/**
 * Temp dirs of earlier runs that were killed (SIGKILL leaves no chance to clean up; their etcd
 * processes died with them through pdeathsig). Only dirs whose owner process is gone are removed.
 */
function sweepStaleDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(dirPrefix)) continue;
    const dir = join(tmpdir(), name);
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(dir, "owner.pid"), "utf8"));
    } catch {
      continue; // not ours to judge
    }
    if (Number.isInteger(owner) && !isAlive(owner)) rmSync(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** No ETCD_* / ETCDCTL_* from the caller's environment. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("ETCD")) delete env[key];
  return env;
}
