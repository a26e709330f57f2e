import { agentVersion } from "../version.js";
import type { CommandSpec } from "./command.js";

export const versionCommand: CommandSpec = {
  define: (program) =>
    program.command("version").description("Print the agent version").option("--json", "as JSON"),
  async run() {
    return { data: { version: agentVersion }, human: agentVersion };
  },
};
