import { Option } from "commander";
import { RunosError } from "../../common/errors.js";
import { registerNode } from "../identity/register.js";
import type { CommandSpec } from "./command.js";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RunosError("NA_USAGE", `not a port: ${value}`);
  return n;
}

export const registerCommand: CommandSpec = {
  define: (program) =>
    program
      .command("register")
      .description("Enrol this machine with a control plane using a one-time token")
      .requiredOption("-s, --server <host>", "control-plane host name or address")
      .requiredOption("-a, --aid <account>", "account id the token belongs to")
      .requiredOption("-t, --token <token>", "enrolment token from `nodeward token create`")
      .option("--ca-hash <sha256>", "pin of the control plane's CA (sha256:<hex> of its DER)")
      .option("--l1-port <port>", "enrolment port (default 9191)", port)
      .option("--l2-port <port>", "operations port (default 9192)", port)
      .addOption(new Option("-c, --control-plane <n>", "accepted for old installers; ignored").hideHelp())
      .option("--json", "print the result as JSON"),
  async run(options, _args, ctx) {
    const result = await registerNode(
      ctx.paths,
      {
        server: String(options.server),
        aid: String(options.aid),
        token: String(options.token),
        caHash: options.caHash as string | undefined,
        l1Port: options.l1Port as number | undefined,
        l2Port: options.l2Port as number | undefined,
      },
      ctx.log,
    );
    return {
      data: result,
      human: [
        `Registered as node ${result.nid} (account ${result.aid}) with ${result.server}.`,
        `Certificate valid until ${result.notAfter}; private key generated on this node: ${result.keyGeneratedOnNode ? "yes" : "no"}.`,
        "Next: start the agent with `systemctl enable --now runos.service` (or `runos agent`).",
      ].join("\n"),
    };
  },
};
