import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "../../common/clock.js";
import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { Paths } from "../host/paths.js";
import { expandCommand, parseEnvironmentFile, parseServiceUnit, type ServiceUnit } from "./unit-file.js";

export const unitDir = "/etc/systemd/system";

/** The unit and its drop-ins as systemd would read them (drop-ins in name order). */
export function loadUnit(paths: Paths, name: string): ServiceUnit {
  const base = paths.onRoot(join(unitDir, `${name}.service`));
  const dropIns = paths.onRoot(join(unitDir, `${name}.service.d`));
  const texts = [readFileSync(base, "utf8")];
  if (existsSync(dropIns)) {
    for (const file of readdirSync(dropIns)
      .filter((f) => f.endsWith(".conf"))
      .sort())
      texts.push(readFileSync(join(dropIns, file), "utf8"));
  }
  return parseServiceUnit(name, texts);
}

/** The argv and environment of one start: environment files are read at every start, as systemd does. */
export function resolveStart(
  paths: Paths,
  unit: ServiceUnit,
): { argv: string[]; env: Record<string, string> } {
  const env: Record<string, string> = { ...unit.environment };
  for (const file of unit.environmentFiles) {
    const path = paths.onRoot(file.path);
    if (!existsSync(path)) {
      if (file.optional) continue;
      throw new Error(`EnvironmentFile ${file.path} is missing`);
    }
    Object.assign(env, parseEnvironmentFile(readFileSync(path, "utf8")));
  }
  return { argv: expandCommand(unit.execStart, env), env };
}

/** What a start depended on: the environment files' contents (missing = null). */
function envSnapshot(paths: Paths, unit: ServiceUnit): string {
  return JSON.stringify(
    unit.environmentFiles.map((f) => {
      try {
        return readFileSync(paths.onRoot(f.path), "utf8");
      } catch {
        return null;
      }
    }),
  );
}

const conditionsHold = (paths: Paths, unit: ServiceUnit) =>
  unit.conditionPaths.every((p) => existsSync(paths.onRoot(p)));

/**
 * Runs one service in the foreground the way systemd would with the unit's Restart= and
 * RestartSec= (the unit is re-read before every start). It starts only while the unit's
 * ConditionPathExists= paths exist. Where systemd would be told to (kubeadm runs `systemctl stop`
 * and `systemctl restart kubelet` around writing the kubelet's flags), it stops the service when a
 * condition path goes away and restarts it when an EnvironmentFile changes. SIGTERM stops the
 * service (SIGKILL after 15 s) and then the supervisor; SIGHUP restarts the service.
 */
export async function superviseService(paths: Paths, name: string, log: Logger): Promise<number> {
  const logDir = paths.onRoot("/var/log/runos-services");
  mkdirSync(logDir, { recursive: true, mode: 0o755 });
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarting = false;
  const stopChild = async () => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    current.kill("SIGTERM");
    const killer = setTimeout(() => current.kill("SIGKILL"), 15_000);
    await new Promise((resolve) => current.once("exit", resolve));
    clearTimeout(killer);
  };
  process.on("SIGTERM", () => {
    stopping = true;
    void stopChild();
  });
  process.on("SIGINT", () => {
    stopping = true;
    void stopChild();
  });
  process.on("SIGHUP", () => {
    restarting = true;
    void stopChild();
  });
  while (!stopping) {
    let unit: ServiceUnit;
    let start: { argv: string[]; env: Record<string, string> };
    try {
      unit = loadUnit(paths, name);
      if (!conditionsHold(paths, unit)) {
        await sleep(500);
        continue;
      }
      start = resolveStart(paths, unit);
    } catch (err) {
      log.warn({ service: name, err: errorMessage(err) }, "service unit not usable; retrying");
      await sleep(2_000);
      continue;
    }
    const [file, ...args] = start.argv;
    if (!file) return 1;
    const out = openSync(join(logDir, `${name}.log`), "a", 0o640);
    const started = Date.now();
    const snapshot = envSnapshot(paths, unit);
    const watcher = setInterval(() => {
      if (!conditionsHold(paths, unit)) {
        log.info({ service: name }, "service stopped: its condition no longer holds");
        restarting = true;
        void stopChild();
      } else if (envSnapshot(paths, unit) !== snapshot) {
        log.info({ service: name }, "service restarted: its environment file changed");
        restarting = true;
        void stopChild();
      }
    }, 500);
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child = spawn(file, args, { stdio: ["ignore", out, out], env: { ...process.env, ...start.env } });
      child.once("error", (err) => {
        log.warn({ service: name, err: errorMessage(err) }, "service failed to start");
        resolve({ code: 127, signal: null });
      });
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
    clearInterval(watcher);
    closeSync(out);
    log.info({ service: name, ...exit, ranMs: Date.now() - started }, "service exited");
    if (stopping) break;
    if (restarting) {
      restarting = false;
      continue;
    }
    const failed = exit.code !== 0;
    if (unit.restart === "no" || (unit.restart === "on-failure" && !failed)) return exit.code ?? 1;
    await sleep(Math.max(100, unit.restartSec * 1000));
  }
  return 0;
}
