import type { Command } from "commander";
import { loadConfig } from "../identity/config.js";
import { identityPaths, readCertificateInfo } from "../identity/files.js";
import { renewCertificate } from "../identity/renewal.js";
import { type CommandSpec, commandGroup } from "./command.js";

const dayMs = 24 * 3600 * 1000;

function certificateGroup(program: Command): Command {
  return commandGroup(program, "certificate", "Inspect or renew the node's mTLS certificate");
}

export const certificateStatusCommand: CommandSpec = {
  define: (program) =>
    certificateGroup(program)
      .command("status")
      .description("Show certificate expiry")
      .option("--json", "as JSON"),
  async run(_options, _args, ctx) {
    const config = loadConfig(ctx.paths);
    const info = await readCertificateInfo(identityPaths(ctx.paths, config));
    const daysRemaining = Math.trunc((info.notAfter.getTime() - Date.now()) / dayMs);
    const lifetime = info.notAfter.getTime() - info.notBefore.getTime();
    const renewAt = new Date(info.notBefore.getTime() + lifetime * config.agent["renew-at-fraction"]);
    const data = {
      status: "ok",
      serial: info.serial,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      daysRemaining,
      expired: info.notAfter.getTime() <= Date.now(),
      renewAt: renewAt.toISOString(),
      renewRecommended: Date.now() >= renewAt.getTime(),
    };
    const human = [
      `Certificate expiry: ${data.notAfter}`,
      `Days remaining:     ${daysRemaining}`,
      `Automatic renewal:  ${data.renewAt} (by the running agent)`,
      ...(data.renewRecommended ? ["", "Renewal recommended. Run: runos certificate renew"] : []),
    ].join("\n");
    return { data, human, exitCode: data.expired ? 1 : 0 };
  },
};

export const certificateRenewCommand: CommandSpec = {
  define: (program) =>
    certificateGroup(program)
      .command("renew")
      .description("Renew the certificate now (new key made here)")
      .option("--json", "as JSON"),
  async run(_options, _args, ctx) {
    const result = await renewCertificate(ctx.paths, ctx.log);
    return {
      data: { status: "renewed", ...result, restartRequired: false },
      human: [
        `Certificate renewed (serial ${result.serial}), valid until ${result.notAfter}.`,
        "A running agent picks the new certificate up at its next reconnect; the old one stays valid for 5 minutes.",
      ].join("\n"),
    };
  },
};
