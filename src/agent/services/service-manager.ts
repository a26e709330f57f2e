import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic-file.js";
import { sleep } from "../../common/clock.js";
import { RunosError } from "../../common/errors.js";
import { checkExec, type Exec } from "../host/exec.js";
import type { Paths } from "../host/paths.js";
import { loadUnit } from "./supervisor.js";

export interface ServiceState {
  name: string;
  manager: "systemd" | "runos";
  running: boolean;
  pid?: number;
}

/** Starts services the install list defines as units: through systemd where it runs, else itself. */
export interface ServiceManager {
  readonly kind: "systemd" | "runos";
  /** Enables and starts; restarts when `restart` (a changed config) or when it is not running. */
  start(name: string, options?: { restart?: boolean }): Promise<ServiceState>;
  stop(name: string): Promise<ServiceState>;
  status(name: string): Promise<ServiceState>;
}

const serviceName = /^[a-z][a-z0-9-]{0,62}$/;

export function validServiceName(name: string): string {
  if (!serviceName.test(name)) throw new RunosError("NA_INVALID_INPUT", `invalid service name "${name}"`);
  return name;
}

export function createServiceManager(
  paths: Paths,
  exec: Exec,
  spawnSupervisor = spawnDetachedSupervisor,
): ServiceManager {
  if (existsSync(paths.onRoot("/run/systemd/system"))) return systemdManager(exec);
  return runosManager(paths, spawnSupervisor);
}

function systemdManager(exec: Exec): ServiceManager {
  const systemctl = async (...args: string[]) => {
    const argv = ["systemctl", ...args];
    return checkExec(await exec({ argv, timeoutMs: 120_000 }), argv);
  };
  const status = async (name: string): Promise<ServiceState> => {
    const result = await exec({ argv: ["systemctl", "is-active", `${name}.service`], timeoutMs: 10_000 });
    return { name, manager: "systemd", running: result.stdout.trim() === "active" };
  };
  return {
    kind: "systemd",
    async start(name, options = {}) {
      validServiceName(name);
      await systemctl("daemon-reload");
      await systemctl("enable", `${name}.service`);
      await systemctl(options.restart ? "restart" : "start", `${name}.service`);
      return status(name);
    },
    async stop(name) {
      validServiceName(name);
      await systemctl("disable", "--now", `${name}.service`);
      return status(name);
    },
    status: (name) => status(validServiceName(name)),
  };
}

/** The supervisor's PID lives in /run/runos/services/NAME.pid; a PID is trusted only if its command line says so. */
function runosManager(paths: Paths, spawnSupervisor: typeof spawnDetachedSupervisor): ServiceManager {
  const dir = paths.onRoot("/run/runos/services");
  const pidFile = (name: string) => join(dir, `${name}.pid`);
  const livePid = (name: string): number | undefined => {
    let pid: number;
    try {
      pid = Number(readFileSync(pidFile(name), "utf8").trim());
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const at = cmdline.indexOf("supervise");
      return at > 0 && cmdline[at - 1] === "service" && cmdline[at + 1] === name ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const status = (name: string): ServiceState => {
    const pid = livePid(name);
    return pid ? { name, manager: "runos", running: true, pid } : { name, manager: "runos", running: false };
  };
  return {
    kind: "runos",
    async start(name, options = {}) {
      validServiceName(name);
      loadUnit(paths, name); // a unit that does not parse fails here, not in the background
      const running = livePid(name);
      if (running) {
        if (options.restart) process.kill(running, "SIGHUP");
        return status(name);
      }
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const pid = spawnSupervisor(paths, name);
      await writeFileAtomic(pidFile(name), `${pid}\n`, { mode: 0o644 });
      for (let i = 0; i < 50 && !livePid(name); i++) await sleep(100);
      const state = status(name);
      if (!state.running)
        throw new RunosError(
          "NA_EXEC_FAILED",
          `service ${name} did not start (see ${paths.onRoot("/var/log/runos.log")})`,
        );
      return state;
    },
    async stop(name) {
      validServiceName(name);
      const pid = livePid(name);
      if (pid) {
        process.kill(pid, "SIGTERM");
        for (let i = 0; i < 200 && livePid(name); i++) await sleep(100);
        if (livePid(name)) process.kill(pid, "SIGKILL");
      }
      rmSync(pidFile(name), { force: true });
      return status(name);
    },
    status: async (name) => status(validServiceName(name)),
  };
}

/** `runos service supervise NAME` in its own session, so it outlives the install that started it. */
function spawnDetachedSupervisor(paths: Paths, name: string): number {
  const script = process.argv[1];
  if (!script) throw new RunosError("NA_INTERNAL", "cannot find the runos entry point to start a supervisor");
  const child = spawn(process.execPath, [...process.execArgv, script, "service", "supervise", name], {
    detached: true,
    stdio: "ignore",
    env: { ...process.env, RUNOS_ROOT: paths.root === "/" ? "" : paths.root },
  });
  child.unref();
  if (!child.pid) throw new RunosError("NA_EXEC_FAILED", `could not start the supervisor of ${name}`);
  return child.pid;
}
