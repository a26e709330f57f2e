import { RunosError } from "../../common/errors.js";
import { updateConfig } from "../identity/config.js";
import type { CommandSpec } from "./command.js";
import { yellow } from "./io.js";

const managedKeys = ["mtls.", "client.aid", "node.nid"];

export const setConfigCommand: CommandSpec = {
  define: (program) =>
    program
      .command("set-config")
      .description("Set one configuration key (dotted path) in /etc/runos/config.yaml")
      .argument("<key>")
      .argument("<value>")
      .option("--json", "as JSON"),
  async run(_options, args, ctx) {
    const key = (args[0] ?? "").trim();
    const value = (args[1] ?? "").trim();
    if (!key || !value) throw new RunosError("NA_USAGE", "set-config needs a non-empty key and value");
    if (managedKeys.some((k) => key === k || key.startsWith(k))) {
      ctx.io.err(
        yellow(ctx.io, `Warning: ${key} is managed by runos; changing it may break the node's identity.`),
      );
    }
    await updateConfig(ctx.paths, { [key]: value });
    return {
      data: { key, value, file: ctx.paths.configFile },
      human: `Successfully set ${key} = ${value}\nConfig file updated: ${ctx.paths.configFile}`,
    };
  },
};
