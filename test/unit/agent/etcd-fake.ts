// A fake `etcdctl` behind the Exec port: a small simulated cluster that answers with the JSON and
// error texts recorded from etcdctl 3.4.23 on a real three-member TLS cluster (fixtures/etcd/).
import { readFileSync } from "node:fs";
import type { ExecRequest, ExecResult } from "../../../src/agent/host/exec.js";

const fixtureDir = new URL("./fixtures/etcd/", import.meta.url);
export const fixture = (name: string): string => readFileSync(new URL(name, fixtureDir), "utf8");

export interface SimMember {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
  up: boolean;
  raftIndex: number;
}

/** Numbers are kept as decimal text so ids beyond 2^53 come out exactly as etcdctl prints them. */
const big = (n: bigint | number) => `@@${n}@@`;
const render = (value: unknown) => JSON.stringify(value).replace(/"@@(\d+)@@"/g, "$1");
const ok = (stdout: string): ExecResult => ({
  exitCode: 0,
  signal: null,
  stdout,
  stderr: "",
  durationMs: 5,
  timedOut: false,
});
const fail = (code: number, stderr: string, stdout = ""): ExecResult => ({
  ...ok(stdout),
  exitCode: code,
  stderr,
});

export class FakeEtcdctl {
  readonly calls: string[][] = [];
  members: SimMember[] = [];
  leader = 0n;
  clusterId = 14425164101666276521n;
  /** How many `member remove` calls answer "unhealthy cluster" first (strict reconfig check). */
  unhealthyRemovals = 0;
  /** stderr of a failing move-leader, when set. */
  moveLeaderError: string | undefined;
  /** When true, move-leader is accepted but leadership never moves. */
  leaderStuck = false;
  /** When true, member remove is accepted but the member stays listed. */
  removeIsNoop = false;
  /** Set if a member remove ever hit the member that was leader at that moment. */
  removedLeaderDirectly = false;

  /** The recorded three-member cluster: e2 127.0.0.10 (leader), e3 127.0.0.11, e1 127.0.0.1. */
  static threeMembers(): FakeEtcdctl {
    const fake = new FakeEtcdctl();
    const list = JSON.parse(fixture("member-list-3.json").replace(/(\d{16,})/g, '"$1"')) as {
      members: { ID: string; name: string; peerURLs: string[]; clientURLs: string[] }[];
    };
    fake.members = list.members.map((m) => ({
      id: BigInt(m.ID),
      name: m.name,
      peerUrls: m.peerURLs,
      clientUrls: m.clientURLs,
      isLearner: false,
      up: true,
      raftIndex: 8,
    }));
    fake.leader = 16685610207972206266n; // e2, as endpoint-status-3.json reports
    return fake;
  }

  byName(name: string): SimMember {
    const member = this.members.find((m) => m.name === name);
    if (!member) throw new Error(`no member ${name}`);
    return member;
  }

  hex(name: string): string {
    return this.byName(name).id.toString(16);
  }

  has(name: string): boolean {
    return this.members.some((m) => m.name === name);
  }

  /** Names of the etcdctl subcommands run, in order (e.g. "member remove"). */
  commands(): string[] {
    return this.calls.map((argv) => subcommand(argv).join(" "));
  }

  private quorum(): boolean {
    const voters = this.members.filter((m) => !m.isLearner);
    return voters.filter((m) => m.up).length >= Math.floor(voters.length / 2) + 1;
  }

  private memberAt(endpoint: string): SimMember | undefined {
    return this.members.find((m) => m.clientUrls.includes(endpoint));
  }

  readonly exec = async (request: ExecRequest): Promise<ExecResult> => {
    const argv = [...request.argv];
    this.calls.push(argv);
    const endpoints = (argv.find((a) => a.startsWith("--endpoints="))?.slice(12) ?? "").split(",");
    if (!argv.includes("json")) throw new Error(`the port must ask for -w json: ${argv.join(" ")}`);
    const [group, verb, arg] = subcommand(argv);
    const live = endpoints.map((e) => this.memberAt(e)).find((m) => m?.up);
    if (group === "member" && verb === "list") {
      if (!live) return fail(1, "Error: context deadline exceeded\n");
      return ok(this.listJson(live));
    }
    if (group === "endpoint" && verb === "status") return this.status(endpoints);
    if (group === "endpoint" && verb === "health") return this.health(endpoints);
    if (group === "move-leader") return this.moveLeader(verb ?? "", endpoints);
    if (group === "member" && verb === "remove") {
      if (!live) return fail(1, "Error: context deadline exceeded\n");
      return this.remove(arg ?? "", live);
    }
    throw new Error(`fake etcdctl: unexpected ${argv.join(" ")}`);
  };

  private listJson(answering: SimMember): string {
    const members = [...this.members]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((m) => ({
        ID: big(m.id),
        ...(m.name ? { name: m.name } : {}),
        peerURLs: m.peerUrls,
        ...(m.clientUrls.length ? { clientURLs: m.clientUrls } : {}),
        ...(m.isLearner ? { isLearner: true } : {}),
      }));
    const header = { cluster_id: big(this.clusterId), member_id: big(answering.id), raft_term: big(2) };
    return render({ header, members });
  }

  private status(endpoints: string[]): ExecResult {
    const entries: unknown[] = [];
    const errors: string[] = [];
    for (const endpoint of endpoints) {
      const member = this.memberAt(endpoint);
      if (!member?.up) {
        errors.push(`Failed to get the status of endpoint ${endpoint} (context deadline exceeded)`);
        continue;
      }
      const leader = this.quorum() && this.leader !== 0n ? { leader: big(this.leader) } : {};
      entries.push({
        Endpoint: endpoint,
        Status: {
          header: { cluster_id: big(this.clusterId), member_id: big(member.id), revision: 1, raft_term: 2 },
          version: "3.4.23",
          dbSize: 20480,
          ...leader,
          raftIndex: member.raftIndex,
          raftTerm: 2,
          raftAppliedIndex: member.raftIndex,
          ...(this.quorum() ? {} : { errors: ["etcdserver: no leader"] }),
          dbSizeInUse: 16384,
        },
      });
    }
    const stdout = render(entries);
    return errors.length ? fail(1, `${errors.join("\n")}\n`, stdout) : ok(stdout);
  }

  private health(endpoints: string[]): ExecResult {
    const entries = endpoints.map((endpoint) => {
      const healthy = Boolean(this.memberAt(endpoint)?.up) && this.quorum();
      return healthy
        ? { endpoint, health: true, took: "7.061359ms" }
        : { endpoint, health: false, took: "2.00062711s", error: "context deadline exceeded" };
    });
    const stdout = render(entries);
    return entries.every((e) => e.health) ? ok(stdout) : fail(1, "Error: unhealthy cluster\n", stdout);
  }

  private moveLeader(hexId: string, endpoints: string[]): ExecResult {
    if (!endpoints.some((e) => this.memberAt(e)?.id === this.leader && this.memberAt(e)?.up)) {
      return fail(128, `Error: no leader endpoint given at [${endpoints.join(" ")}]\n`);
    }
    if (this.moveLeaderError) return fail(1, this.moveLeaderError);
    const target = this.members.find((m) => m.id.toString(16) === hexId);
    if (!target?.up || target.isLearner) return fail(1, "Error: etcdserver: bad leader transferee\n");
    if (!this.leaderStuck) this.leader = target.id;
    return ok("{}");
  }

  private remove(hexId: string, answering: SimMember): ExecResult {
    if (!/^[0-9a-f]+$/.test(hexId)) {
      return fail(
        128,
        `Error: bad member ID arg (strconv.ParseUint: parsing "${hexId}"), expecting ID in Hex\n`,
      );
    }
    const target = this.members.find((m) => m.id.toString(16) === hexId);
    if (!target) return fail(1, fixture("member-remove-not-found.stderr"));
    const remaining = this.members.filter((m) => m !== target && !m.isLearner);
    const strictOk = remaining.filter((m) => m.up).length >= Math.floor(remaining.length / 2) + 1;
    if (this.unhealthyRemovals > 0 || !strictOk || !this.quorum()) {
      this.unhealthyRemovals = Math.max(0, this.unhealthyRemovals - 1);
      return fail(1, fixture("member-remove-unhealthy.stderr"));
    }
    if (target.id === this.leader) this.removedLeaderDirectly = true;
    if (!this.removeIsNoop) this.members = this.members.filter((m) => m !== target);
    return ok(this.listJson(answering));
  }
}

/** The etcdctl words after the global flags: ["member","list"], ["move-leader","<hex>"], ... */
function subcommand(argv: string[]): string[] {
  const words: string[] = [];
  for (let i = 1; i < argv.length; i += 1) {
    const word = argv[i] ?? "";
    if (word === "-w") i += 1;
    else if (!word.startsWith("-")) words.push(word);
  }
  return words;
}

/** Virtual time: sleeps return at once and advance the clock. */
export class FakeTimers {
  t = 0;
  now = () => this.t;
  sleep = async (ms: number) => {
    this.t += ms;
  };
}
