import { join } from "node:path";
import { eventually, freePort, nodeRoot, type Proc, runCli, startProcess, tempDir } from "./harness.js";

export interface NodewardUnderTest {
  dataDir: string;
  ports: { l1: number; l2: number; http: number };
  proc: Proc;
  api: string;
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  restart(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A real nodeward process on loopback with its own data dir and ports. */
export async function startNodeward(extraArgs: string[] = []): Promise<NodewardUnderTest> {
  const dataDir = tempDir("nodeward");
  const ports = {
    l1: await freePort(),
    l2: await freePort(),
    http: await freePort(),
    installer: await freePort(),
  };
  const api = `http://127.0.0.1:${ports.http}`;
  const args = [
    "serve",
    "--data-dir",
    dataDir,
    "--host",
    "localhost",
    "--grpc-host",
    "127.0.0.1",
    "--l1-port",
    String(ports.l1),
    "--l2-port",
    String(ports.l2),
    "--http-port",
    String(ports.http),
    "--installer-host",
    "127.0.0.1",
    "--installer-port",
    String(ports.installer),
    ...extraArgs,
  ];
  const launch = async () => {
    const proc = startProcess("nodeward", args, {}, join(dataDir, "nodeward.out"));
    await eventually(
      async () => (await fetch(`${api}/healthz`).catch(() => undefined))?.ok,
      20_000,
      "nodeward /healthz",
    );
    return proc;
  };
  const underTest: NodewardUnderTest = {
    dataDir,
    ports,
    api,
    proc: await launch(),
    cli: (cliArgs) => runCli("nodeward", [...cliArgs, "--api", api, "--data-dir", dataDir]),
    async restart() {
      underTest.proc = await launch();
    },
    stop: (signal = "SIGTERM") => underTest.proc.kill(signal),
  };
  return underTest;
}

export interface TokenInfo {
  token: string;
  aid: string;
  cluster: string;
  caHash: string;
  expiresAt: string;
  installCommand: string;
}

export async function createToken(
  nodeward: NodewardUnderTest,
  aid: string,
  cluster: string,
  extra: string[] = [],
): Promise<TokenInfo> {
  const result = await nodeward.cli([
    "token",
    "create",
    "--aid",
    aid,
    "--cluster",
    cluster,
    "--json",
    ...extra,
  ]);
  if (result.code !== 0) throw new Error(`token create failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as TokenInfo;
}

export interface AgentUnderTest {
  root: string;
  env: Record<string, string>;
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  register(
    token: TokenInfo,
    extra?: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  start(): Proc;
}

export function agentOnNewMachine(name: string, nodeward: NodewardUnderTest): AgentUnderTest {
  const root = nodeRoot(name);
  const env = { RUNOS_ROOT: root, RUNOS_LOG_LEVEL: "debug" };
  const agent: AgentUnderTest = {
    root,
    env,
    cli: (args) => runCli("runos", args, env),
    register: (token, extra = []) =>
      agent.cli([
        "register",
        "--server",
        "localhost",
        "--aid",
        token.aid,
        "--token",
        token.token,
        "--ca-hash",
        token.caHash,
        "--l1-port",
        String(nodeward.ports.l1),
        "--l2-port",
        String(nodeward.ports.l2),
        "--json",
        ...extra,
      ]),
    start: () => startProcess("runos", ["agent"], env, join(root, "agent.out")),
  };
  return agent;
}

export interface NodeRow {
  nid: string;
  online: boolean;
  [key: string]: unknown;
}

export async function listNodes(nodeward: NodewardUnderTest): Promise<NodeRow[]> {
  const result = await nodeward.cli(["node", "list", "--json"]);
  if (result.code !== 0) throw new Error(`node list failed: ${result.stderr}`);
  const parsed = JSON.parse(result.stdout) as NodeRow[] | { nodes: NodeRow[] };
  return Array.isArray(parsed) ? parsed : parsed.nodes;
}
