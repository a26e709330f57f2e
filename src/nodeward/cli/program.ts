import { Command, InvalidArgumentError, Option } from "commander";
import { RunosError } from "../../common/errors.js";
import {
  defaultDataDir,
  defaultHttpPort,
  defaultL1Port,
  defaultL2Port,
  parseDuration,
  parsePort,
} from "../config.js";
import { nodewardVersion } from "../version.js";
import { type ApiClient, connectApi, type OperatorOptions } from "./api-client.js";
import { bundleImport, bundleList } from "./bundle.js";
import { type CliIo, type CommandResult, colours } from "./io.js";
import { nodeDelete } from "./node-delete.js";
import { nodeExec } from "./node-exec.js";
import { nodeList } from "./node-list.js";
import { nodeLogs } from "./node-logs.js";
import { nodeSetRole } from "./node-set-role.js";
import { nodeShow } from "./node-show.js";
import { type ServeOptions, serve } from "./serve.js";
import { tokenCreate } from "./token-create.js";
import { userAdd, userList, userRemove } from "./user.js";

/** What the chosen command produced, for main to print. */
export interface Outcome {
  result?: CommandResult;
  error?: unknown;
  json: boolean;
}

type JsonOption = { json?: boolean };

/**
 * The command tree. Actions never print: each stores its result (or error) in `outcome`, and
 * main prints it, so every command gets --json and the same failure block.
 */
export function buildProgram(io: CliIo, outcome: Outcome): Command {
  const program = new Command("nodeward")
    .description("runos control plane: enrolment, the agent link and the operator API")
    .version(nodewardVersion, "-V, --version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError("(run with --help for usage)");

  function run<A extends unknown[]>(work: (...args: A) => Promise<CommandResult>) {
    return async (...args: A) => {
      const opts = args.find((a) => a !== null && typeof a === "object" && !Array.isArray(a)) as
        | JsonOption
        | undefined;
      outcome.json = Boolean(opts?.json);
      try {
        outcome.result = await work(...args);
      } catch (err) {
        outcome.error = err;
      }
    };
  }

  function operator(command: Command): Command {
    return command
      .option("--api <url>", "nodeward HTTP API", "http://127.0.0.1:8080")
      .option("--data-dir <dir>", "data dir holding admin.token (or set NODEWARD_TOKEN)", defaultDataDir)
      .option("--json", "print one JSON document");
  }
  const api = (opts: OperatorOptions): Promise<ApiClient> => connectApi(opts, io.env);

  program
    .command("serve")
    .description("run the control plane until SIGINT/SIGTERM")
    .option("--data-dir <dir>", "CA, certificates, admin token and database", defaultDataDir)
    .option(
      "--host <name>",
      "name or address agents dial (repeatable; the first goes into install commands)",
      collect,
      [],
    )
    .option("--grpc-host <address>", "bind address of the enrolment and agent ports", "0.0.0.0")
    .option("--l1-port <port>", "enrolment port (TLS)", port, defaultL1Port)
    .option("--l2-port <port>", "agent port (mutual TLS)", port, defaultL2Port)
    .option("--http-port <port>", "HTTP API port", port, defaultHttpPort)
    .option("--http-host <address>", "HTTP API bind address", "127.0.0.1")
    .option(
      "--kube-api-port <port>",
      "Kubernetes API port on control-plane nodes (agents balance https://<overlay IP>:<port>)",
      port,
      6443,
    )
    .addOption(
      new Option("--cert-ttl <duration>", "node certificate lifetime").default("90d").argParser(duration),
    )
    .addOption(
      new Option("--offline-after <duration>", "silence before a node counts as offline")
        .default("30s")
        .argParser(duration),
    )
    .addOption(
      new Option("--vip-fence <duration>", "silence of the VIP holder before the VIP moves (docs/vip.md)")
        .default("45s")
        .argParser(duration),
    )
    .option(
      "--admit-per-second <n>",
      "new agent sessions admitted per second (reconnect storms)",
      positive,
      500,
    )
    .option("--max-handshakes <n>", "TLS handshakes in progress at once per listener", positive, 512)
    .option(
      "--max-waiting-connections <n>",
      "accepted connections waiting for a handshake per listener; more are closed",
      positive,
      4096,
    )
    .option("--max-registrations <n>", "registrations in progress at once", positive, 16)
    .option("--log-level <level>", "trace|debug|info|warn|error|silent", "info")
    .option(
      "--installer-host <address>",
      "bind address of the public installer endpoint (bundles)",
      "0.0.0.0",
    )
    .option("--installer-port <port>", "installer endpoint port", port, 9190)
    .option(
      "--installer-url <url>",
      "base URL nodes download from (default http://<first --host>:<installer port>)",
    )
    .option(
      "--kubernetes-version <version>",
      "version for nodes installed online (no bundle imported)",
      "v1.34.4",
    )
    .action(run((opts: ServeOptions) => serve(opts, io)));

  const bundle = program.command("bundle").description("Kubernetes bundles served to air-gapped nodes");
  bundle
    .command("import")
    .argument("<source>", "a bundle directory or a .tar/.tar.gz of one (with bundle.json)")
    .description("verify every file's sha256 and import the bundle into the data dir")
    .option("--data-dir <dir>", "nodeward's data dir", defaultDataDir)
    .option("--json", "print one JSON document")
    .action(run(async (source: string, opts: { dataDir: string }) => bundleImport(source, opts)));
  bundle
    .command("list")
    .description("list the imported bundles")
    .option("--data-dir <dir>", "nodeward's data dir", defaultDataDir)
    .option("--json", "print one JSON document")
    .action(run(async (opts: { dataDir: string }) => bundleList(opts)));

  const token = program.command("token").description("enrolment tokens");
  operator(
    token
      .command("create")
      .description("create an enrolment token and print the command to run on the new machine")
      .requiredOption("--aid <account>", "account id")
      .requiredOption("--cluster <name>", "cluster the node joins")
      .addOption(
        new Option("--ttl <duration>", "how long the token is valid").default("1h").argParser(duration),
      )
      .option("--uses <n>", "how many registrations it allows", "1")
      .option("--role <role>", "control-plane or worker: the role of nodes enrolled with it", "worker"),
  ).action(run(async (opts) => tokenCreate(opts, await api(opts))));

  const node = program.command("node").description("registered nodes");
  operator(
    node
      .command("list")
      .description("list nodes with their presence")
      .option("--all", "include deleted and replaced nodes"),
  ).action(run(async (opts) => nodeList(opts, await api(opts), colours(io.stdout, io.env))));
  operator(node.command("show").argument("<nid>").description("show one node")).action(
    run(async (nid: string, opts) => nodeShow(nid, await api(opts))),
  );
  operator(
    node
      .command("logs")
      .argument("<nid>")
      .description("show a node's event log")
      .option("--limit <n>", "newest n entries", "200"),
  ).action(run(async (nid: string, opts) => nodeLogs(nid, opts, await api(opts))));
  operator(
    node
      .command("exec")
      .argument("<nid>")
      .argument("<type>", "instruction type, e.g. GET_NODE_STATUS")
      .argument("[json]", "payload as JSON")
      .description("send one instruction to a node and print its answer")
      .option("--timeout <seconds>", "how long to wait for the answer", "30"),
  ).action(
    run(async (nid: string, type: string, json: string | undefined, opts) =>
      nodeExec(nid, type, json, opts, await api(opts)),
    ),
  );
  operator(
    node
      .command("set-role")
      .argument("<nid>")
      .argument("<role>", "control-plane or worker")
      .description("mark a node as control-plane or worker"),
  ).action(run(async (nid: string, role: string, opts) => nodeSetRole(nid, role, await api(opts))));
  operator(
    node
      .command("delete")
      .argument("<nid>")
      .description(
        "delete a node: remove its etcd member (control planes), revoke its certificates, end its stream",
      )
      .option("--force", "delete even when its etcd member cannot be removed"),
  ).action(run(async (nid: string, opts) => nodeDelete(nid, opts, await api(opts))));
  const user = program.command("user").description("WireGuard user access (wg1) to a cluster's overlay");
  const userOpts = (command: Command) =>
    operator(
      command
        .requiredOption("--cluster <name>", "cluster")
        .option("--aid <account>", "account, if the cluster name is ambiguous"),
    );
  userOpts(
    user
      .command("add")
      .argument("<name>", "device or person, e.g. alice-laptop")
      .description("add a user device and print its WireGuard configuration")
      .option("--public-key <key>", "the device's own WireGuard public key (else one is generated)"),
  ).action(run(async (name: string, opts) => userAdd(name, opts, await api(opts))));
  userOpts(user.command("list").description("list the cluster's user devices")).action(
    run(async (opts) => userList(opts, await api(opts))),
  );
  userOpts(user.command("remove").argument("<name>").description("remove a user device")).action(
    run(async (name: string, opts) => userRemove(name, opts, await api(opts))),
  );
  return program;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a whole number >= 1, got "${value}"`);
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function port(value: string): number {
  return asArgument(() => parsePort(value));
}

/** Validated here, passed on as text: serve and token create parse it where they use it. */
function duration(value: string): string {
  asArgument(() => parseDuration(value));
  return value;
}

function asArgument<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new InvalidArgumentError(err instanceof RunosError ? err.message : String(err));
  }
}
