import { connect } from "node:net";
import { RunosError } from "../../common/errors.js";

/**
 * One command on an HAProxy CLI socket (the worker's stats socket or the master CLI). The command
 * is sent with a half-close: HAProxy 2.6's master CLI answers only once the client has ended its
 * side (FEASIBILITY §2), and the worker socket closes after one command either way.
 */
export function haproxyCommand(socketPath: string, command: string, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let output = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RunosError("NA_TIMEOUT", `HAProxy socket ${socketPath}: no answer to "${command}"`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.end(`${command}\n`));
    socket.on("data", (chunk: string) => {
      output += chunk;
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new RunosError("NA_UNREACHABLE", `HAProxy socket ${socketPath}: ${err.code ?? err.message}`, {
          cause: err,
        }),
      );
    });
    socket.on("close", (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(output);
    });
  });
}

export interface MasterState {
  masterPid: number;
  /** Reloads the master performed, and how many of them failed (the old workers kept serving). */
  reloads: number;
  failedReloads: number;
  /** Current workers (not the old ones still finishing connections). */
  workers: number[];
}

/**
 * The master CLI's `show proc` (2.6):
 * `6653  master  2 [failed: 1]  0d00h00m12s  2.6.12`, then `# workers`, `6924  worker  1 ...`,
 * then `# old workers` / `# programs`.
 */
export function parseShowProc(text: string): MasterState | undefined {
  let section = "";
  let master: MasterState | undefined;
  const workers: number[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#")) {
      section = line.startsWith("#<") ? "" : line.slice(1).trim();
      continue;
    }
    const m = /^(\d+)\s+master\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?/.exec(line);
    if (m) {
      master = { masterPid: Number(m[1]), reloads: Number(m[2]), failedReloads: Number(m[3] ?? 0), workers };
      continue;
    }
    const w = /^(\d+)\s+worker\s/.exec(line);
    if (w && section === "workers") workers.push(Number(w[1]));
  }
  return master;
}

export interface LiveServer {
  backend: string;
  name: string;
  address: string;
  /** UP, DOWN, MAINT, `no check`, or a transition such as `UP 1/2`. */
  status: string;
  /** Last health check result (L7OK, L4CON, L4TOUT, L6RSP, ...), with `* ` while one runs. */
  checkStatus: string;
  /** Seconds since the last UP/DOWN change. */
  lastChangeSeconds: number | undefined;
  currentSessions: number;
  totalSessions: number;
}

/** `show stat` (CSV with a `# pxname,svname,...` header): every server row, no FRONTEND/BACKEND rows. */
export function parseShowStat(text: string): LiveServer[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = lines.find((l) => l.startsWith("# "));
  if (!header) return [];
  const columns = header.slice(2).split(",");
  const index = (name: string) => columns.indexOf(name);
  const at = (row: string[], name: string) => row[index(name)] ?? "";
  const servers: LiveServer[] = [];
  for (const line of lines) {
    if (line.startsWith("#")) continue;
    const row = line.split(",");
    const name = at(row, "svname");
    if (name === "FRONTEND" || name === "BACKEND" || name === "") continue;
    const lastChange = at(row, "lastchg");
    servers.push({
      backend: at(row, "pxname"),
      name,
      address: at(row, "addr"),
      status: at(row, "status"),
      checkStatus: at(row, "check_status"),
      lastChangeSeconds: lastChange === "" ? undefined : Number(lastChange),
      currentSessions: Number(at(row, "scur") || 0),
      totalSessions: Number(at(row, "stot") || 0),
    });
  }
  return servers;
}

/** Server names of one backend from `show servers state <backend>` (field 4 of each data line). */
export function parseServerStateNames(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#") && !/^\d+$/.test(l.trim()))
    .map((l) => l.trim().split(/\s+/)[3] ?? "")
    .filter((n) => n !== "");
}
