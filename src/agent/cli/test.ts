import { readFile } from "node:fs/promises";
import { errorMessage } from "../../common/errors.js";
import { loadConfig } from "../identity/config.js";
import { identityPaths, readIdentity } from "../identity/files.js";
import { createL1Client, createL2Client, waitForReady } from "../link/clients.js";
import { endpointFromConfig, hostPort } from "../link/endpoints.js";
import { sendNodelog } from "../link/nodelog.js";
import type { CommandSpec } from "./command.js";
import { green, red } from "./io.js";

interface Check {
  name: string;
  ok: boolean;
  error?: string;
  detail?: string;
}

/** End-to-end self-test: every failure is reported as a check (also in --json), never a crash. */
export const testCommand: CommandSpec = {
  define: (program) =>
    program.command("test").description("Check the links to the control plane").option("--json", "as JSON"),
  async run(_options, _args, ctx) {
    const config = loadConfig(ctx.paths);
    const endpoint = endpointFromConfig(config);
    const checks: Check[] = [];
    const check = async (name: string, fn: () => Promise<string | undefined>) => {
      try {
        checks.push({ name, ok: true, detail: await fn() });
      } catch (err) {
        checks.push({ name, ok: false, error: errorMessage(err) });
      }
    };
    const files = identityPaths(ctx.paths, config);
    await check("Backend connection (L1Sec)", async () => {
      const ca = await readFile(ctx.paths.onRoot(config.mtls["public-ca"]), "utf8").catch(() =>
        readFile(files.ca, "utf8"),
      );
      const client = createL1Client(endpoint, ca);
      try {
        await waitForReady(client, 10_000, hostPort(endpoint.host, endpoint.l1Port));
      } finally {
        client.close();
      }
      return undefined;
    });
    await check("List control-plane nodes", async () => {
      const client = createL2Client(endpoint, await readIdentity(files));
      try {
        const res = await client.getControlPlaneNodes({}, { deadlineMs: 30_000 });
        return `found ${res.ControlPlaneNodes.length} control-plane node(s)`;
      } finally {
        client.close();
      }
    });
    await check("Write node log entry", async () => {
      const client = createL2Client(endpoint, await readIdentity(files));
      try {
        const ok = await sendNodelog(
          client,
          { type: "Test", severity: 3, message: `Test command executed at ${new Date().toISOString()}` },
          ctx.log,
        );
        if (!ok) throw new Error("the control plane did not accept the node log");
      } finally {
        client.close();
      }
      return undefined;
    });
    const ok = checks.every((c) => c.ok);
    const human = [
      "RunOS Node Agent Self-Test",
      ...checks.map((c) =>
        c.ok
          ? `  ${green(ctx.io, "✓")} ${c.name}${c.detail ? `\n      ${c.detail}` : ""}`
          : `  ${red(ctx.io, "✗")} ${c.name}\n      ${c.error}`,
      ),
      ok ? green(ctx.io, "✓ All checks passed") : red(ctx.io, "✗ Some checks failed"),
    ].join("\n");
    return { data: { ok, checks }, human, exitCode: ok ? 0 : 1 };
  },
};
