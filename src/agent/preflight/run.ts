import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Paths } from "../host/paths.js";
import { type CheckResult, checks, type PreflightOptions } from "./checks.js";
import type { PreflightHost } from "./host.js";

/** Marks that this runos started a Kubernetes install here: its own ports and files are not leftovers. */
export const installMarker = "/var/lib/runos/kubernetes/install-started";

export interface PreflightReport {
  ok: boolean;
  results: CheckResult[];
  blocks: number;
  warnings: number;
}

/** Runs every applicable check (collect-all: a block never stops the others). */
export async function runPreflight(host: PreflightHost, options: PreflightOptions): Promise<PreflightReport> {
  const ours = host.exists(installMarker);
  const results: CheckResult[] = [];
  for (const check of checks) {
    if (check.kubernetes && !options.kubernetes) continue;
    let outcome: Awaited<ReturnType<typeof check.run>>;
    try {
      outcome = await check.run(host, options, ours);
    } catch (err) {
      outcome = {
        status: "warn",
        message: `check failed to run: ${String(err)}`,
        code: "NA_INTERNAL",
        remedy: "report this",
      };
    }
    results.push({ name: check.name, ...outcome });
  }
  const blocks = results.filter((r) => r.status === "block").length;
  const warnings = results.filter((r) => r.status === "warn").length;
  return { ok: blocks === 0, results, blocks, warnings };
}

/** After a passing Kubernetes preflight: the install is ours from here on. */
export function markInstallStarted(paths: Paths): void {
  const file = paths.onRoot(installMarker);
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, `${new Date().toISOString()}\n`, { mode: 0o644 });
}

export function renderReport(report: PreflightReport): string {
  const lines: string[] = [];
  for (const r of report.results.filter((x) => x.status === "warn"))
    lines.push(`⚠ WARNING [${r.name}]: ${r.message}${r.remedy ? `\n  Try: ${r.remedy}` : ""}`);
  for (const r of report.results.filter((x) => x.status === "block"))
    lines.push(`✗ BLOCKED [${r.name}] ${r.code}: ${r.message}\n  Try: ${r.remedy}`);
  lines.push(
    report.ok
      ? `System is ready for installation (${report.results.length} checks, ${report.warnings} warning(s)).`
      : `${report.blocks} blocking issue(s) must be fixed before installation — nothing has been installed.`,
  );
  return lines.join("\n");
}
