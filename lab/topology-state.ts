// The running topology recorded under /run/labhost, so `lab down`/`status`/`exec` in another process
// (and the demo) find it.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { topologyStateFile } from "./paths.js";
import type { Topology } from "./topology.js";

export { topologyStateFile } from "./paths.js";

export const DEFAULT_PREFIX = "lab";

export function saveTopology(topo: Topology): void {
  const file = topologyStateFile(topo.prefix);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(topo, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function loadTopology(prefix = DEFAULT_PREFIX): Topology | null {
  const file = topologyStateFile(prefix);
  if (!existsSync(file)) return null;
  const topo = JSON.parse(readFileSync(file, "utf8")) as Topology;
  // Labs from before the split into two routers recorded a single `router` (natgw).
  if (!topo.routers)
    throw new Error(
      `lab: ${file} is from an older lab layout; tear it down with \`down --prefix ${prefix}\``,
    );
  return topo;
}
