import { createInterface } from "node:readline";
import type { Command } from "commander";
import { RunosError } from "../../common/errors.js";
import { collectClusterInfo } from "../etcd/cluster.js";
import { memberIdCandidates } from "../etcd/member-id.js";
import { realTimers, removeMember, type Timers } from "../etcd/remove.js";
import { renderClusterInfo, renderRemoveResult } from "../etcd/render.js";
import { configuredEtcdPort, type EtcdOverrides } from "../etcd/settings.js";
import { canonicalIp, describeTarget, type RemovalTarget } from "../etcd/target.js";
import type { EtcdPort } from "../host/etcd.js";
import { execArgv } from "../host/exec.js";
import { type CommandContext, type CommandSpec, commandGroup } from "./command.js";
import type { Io } from "./io.js";

export interface EtcdCliDeps {
  etcd(ctx: CommandContext, overrides: EtcdOverrides): EtcdPort;
  /** One line from the user, or undefined when stdin is closed. */
  ask(question: string, io: Io): Promise<string | undefined>;
  timers: Timers;
}

const defaultDeps: EtcdCliDeps = {
  etcd: (ctx, overrides) => configuredEtcdPort(ctx.paths, execArgv, overrides),
  ask: askStdin,
  timers: realTimers,
};

function etcdGroup(program: Command): Command {
  return commandGroup(program, "etcd", "Inspect and change this control plane's etcd membership");
}

function connectionOptions(command: Command): Command {
  return command
    .option("--endpoints <urls>", "etcd client URLs, comma-separated (default: config etcd.endpoints)")
    .option("--cacert <path>", "etcd CA certificate (default: config etcd.cacert)")
    .option("--cert <path>", "etcd client certificate (default: config etcd.cert)")
    .option("--key <path>", "etcd client key (default: config etcd.key)")
    .option("--json", "as JSON");
}

function overridesFrom(options: Record<string, unknown>): EtcdOverrides {
  const text = (key: string) => (typeof options[key] === "string" ? (options[key] as string) : undefined);
  return { endpoints: text("endpoints"), cacert: text("cacert"), cert: text("cert"), key: text("key") };
}

/** The target from `--ip` XOR `--id`, checked before anything is asked or read. */
export function targetFrom(options: Record<string, unknown>): RemovalTarget {
  const ip = typeof options.ip === "string" ? options.ip.trim() : "";
  const id = typeof options.id === "string" ? options.id.trim() : "";
  if (Boolean(ip) === Boolean(id)) {
    throw new RunosError("NA_USAGE", "give exactly one of --ip and --id", {
      hint: "runos etcd remove --ip 10.0.0.5, or --id 8e9e05c52164694d (from `runos etcd list`)",
    });
  }
  if (ip) {
    if (!canonicalIp(ip)) throw new RunosError("NA_INVALID_INPUT", `"${ip}" is not an IP address`);
    return { ip };
  }
  memberIdCandidates(id); // throws on a malformed id
  return { id };
}

export function createEtcdCommands(deps: EtcdCliDeps = defaultDeps): {
  list: CommandSpec;
  remove: CommandSpec;
} {
  const list: CommandSpec = {
    define: (program) =>
      connectionOptions(
        etcdGroup(program).command("list").description("Members with health, leader, raft index and size"),
      ),
    async run(options, _args, ctx) {
      const info = await collectClusterInfo(deps.etcd(ctx, overridesFrom(options)));
      return { data: info, human: renderClusterInfo(info) };
    },
  };

  const remove: CommandSpec = {
    define: (program) =>
      connectionOptions(
        etcdGroup(program)
          .command("remove")
          .description("Remove one member (leadership moved first, quorum guarded)")
          .option("--ip <ip>", "the member whose peer URL host is exactly this IP")
          .option("--id <id>", "the member id, hex (as listed) or decimal")
          .option("-y, --yes", "do not ask for confirmation"),
      ),
    async run(options, _args, ctx) {
      const target = targetFrom(options);
      const what = describeTarget(target);
      if (!options.yes) {
        const answer = await deps.ask(
          `About to remove etcd member with ${what}. This is destructive and cannot be undone. Continue? [y/N]: `,
          ctx.io,
        );
        if (answer === undefined) {
          throw new RunosError("NA_USAGE", "no answer to the confirmation prompt (stdin is closed)", {
            hint: "pass --yes to remove without asking",
          });
        }
        if (!/^(y|yes)$/i.test(answer.trim())) {
          return {
            data: { target: what, removed: false, aborted: true },
            human: "Aborted; no member was removed.",
          };
        }
      }
      const result = await removeMember(
        {
          etcd: deps.etcd(ctx, overridesFrom(options)),
          log: ctx.log.child({ component: "etcd" }),
          timers: deps.timers,
          signal: ctx.signal,
        },
        target,
      );
      return { data: result, human: renderRemoveResult(result) };
    },
  };
  return { list, remove };
}

/** The prompt goes to stderr, so stdout stays data only (`--json`). */
function askStdin(question: string, io: Io): Promise<string | undefined> {
  io.err(question);
  return new Promise((resolve) => {
    const reader = createInterface({ input: process.stdin, terminal: false });
    let answer: string | undefined;
    reader.once("line", (line) => {
      answer = line;
      reader.close();
    });
    reader.once("close", () => resolve(answer));
  });
}

const commands = createEtcdCommands();
export const etcdListCommand = commands.list;
export const etcdRemoveCommand = commands.remove;
