import { join } from "node:path";

/**
 * Every machine path goes through the root, so tests and lab hosts run several agents on one
 * machine (RUNOS_ROOT=/tmp/x) with the same code as production (RUNOS_ROOT unset = /).
 */
export interface Paths {
  root: string;
  onRoot(path: string): string;
  readonly configFile: string;
  readonly logFile: string;
  readonly runDir: string;
  readonly lockFile: string;
  readonly stateFile: string;
  readonly stateDir: string;
}

export function createPaths(root = process.env.RUNOS_ROOT || "/"): Paths {
  const onRoot = (path: string) => (root === "/" ? path : join(root, path));
  return {
    root,
    onRoot,
    configFile: onRoot("/etc/runos/config.yaml"),
    logFile: onRoot("/var/log/runos.log"),
    runDir: onRoot("/run/runos"),
    lockFile: onRoot("/run/runos/agent.lock"),
    stateFile: onRoot("/run/runos/state.json"),
    stateDir: onRoot("/var/lib/runos"),
  };
}
