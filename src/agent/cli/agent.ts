import { createAgent } from "../create-agent.js";
import type { CommandSpec } from "./command.js";

export const agentCommand: CommandSpec = {
  streaming: true,
  define: (program) =>
    program.command("agent").description("Run the node agent daemon (systemd unit runos.service)"),
  async run(_options, _args, ctx) {
    await createAgent({ paths: ctx.paths, log: ctx.log }).run(ctx.signal);
    return { data: null, human: "" };
  },
};
