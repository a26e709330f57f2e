import { isIP } from "node:net";
import { checkExec, type Exec } from "./exec.js";

/** Host routes (/32) on one interface, reconciled to a desired set. */
export interface RoutesPort {
  syncHostRoutes(dev: string, desired: readonly string[]): Promise<{ added: number; removed: number }>;
}

export function createRoutesPort(exec: Exec): RoutesPort {
  const ip = async (args: string[]) =>
    checkExec(await exec({ argv: ["ip", ...args], timeoutMs: 10_000 }), ["ip", ...args]);
  return {
    async syncHostRoutes(dev, desired) {
      const wanted = new Set(desired.filter((a) => isIP(a) === 4));
      const listed = JSON.parse((await ip(["-j", "-4", "route", "show", "dev", dev])).stdout || "[]") as {
        dst?: string;
      }[];
      const present = new Set(listed.map((r) => r.dst ?? "").filter((dst) => isIP(dst) === 4));
      let added = 0;
      let removed = 0;
      for (const address of wanted) {
        if (present.has(address)) continue;
        await ip(["route", "replace", `${address}/32`, "dev", dev]);
        added += 1;
      }
      for (const address of present) {
        if (wanted.has(address)) continue;
        await ip(["route", "del", `${address}/32`, "dev", dev]);
        removed += 1;
      }
      return { added, removed };
    },
  };
}
