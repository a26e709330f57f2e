import { RunosError } from "../../common/errors.js";
import { loadConfig } from "../identity/config.js";
import { endpointFromConfig } from "../link/endpoints.js";
import { createPreflightHost } from "../preflight/host.js";
import { markInstallStarted, renderReport, runPreflight } from "../preflight/run.js";
import type { CommandSpec } from "./command.js";

export const preflightCommand: CommandSpec = {
  define: (program) =>
    program
      .command("preflight")
      .description("Check that this machine can be installed (every check runs; exit 1 on any block)")
      .option("--kubernetes", "also the checks for a Kubernetes node")
      .option("--role <role>", "control-plane or worker (with --kubernetes)", "worker")
      .option("-s, --server <host>", "the control plane to check (default: the configured one)")
      .option("--json", "as JSON"),
  async run(options, _args, ctx) {
    const role = String(options.role);
    if (role !== "control-plane" && role !== "worker")
      throw new RunosError("NA_USAGE", `invalid --role "${role}": control-plane or worker`);
    const kubernetes = Boolean(options.kubernetes);
    const config = loadConfig(ctx.paths);
    const configured = endpointFromConfig(config);
    const host =
      typeof options.server === "string" && options.server !== "" ? options.server : configured.host;
    const server = host ? { host, l1Port: configured.l1Port, l2Port: configured.l2Port } : undefined;
    const report = await runPreflight(createPreflightHost(ctx.paths), { kubernetes, role, server });
    if (report.ok && kubernetes) markInstallStarted(ctx.paths);
    for (const r of report.results.filter((x) => x.status !== "pass"))
      ctx.log.warn({ check: r.name, status: r.status, code: r.code, message: r.message }, "preflight");
    return { data: report, human: renderReport(report), exitCode: report.ok ? 0 : 1 };
  },
};
