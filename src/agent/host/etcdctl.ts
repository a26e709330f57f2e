import { existsSync } from "node:fs";
import * as z from "zod";
import { RunosError } from "../../common/errors.js";
import { memberIdFromJson, parseJsonLossless } from "../etcd/member-id.js";
import type { EtcdSettings } from "../etcd/settings.js";
import type { EtcdEndpointHealth, EtcdEndpointStatus, EtcdMemberList, EtcdPort } from "./etcd.js";
import type { Exec, ExecResult } from "./exec.js";

export interface EtcdctlPortOptions {
  exec: Exec;
  /** Read at each call, so a config change applies without a restart. */
  settings: () => EtcdSettings;
  /** Default `etcdctl` from PATH. */
  binary?: string;
  fileExists?: (path: string) => boolean;
}

const id = z.union([z.number(), z.string()]);
const count = z.union([z.number(), z.string()]).transform(Number);

const MemberListJson = z.object({
  header: z.object({ cluster_id: id, member_id: id }),
  members: z
    .array(
      z.object({
        ID: id,
        name: z.string().default(""),
        peerURLs: z.array(z.string()).default([]),
        clientURLs: z.array(z.string()).default([]),
        isLearner: z.boolean().default(false),
      }),
    )
    .default([]),
});

const EndpointStatusJson = z.array(
  z.object({
    Endpoint: z.string(),
    Status: z.object({
      header: z.object({ member_id: id }),
      version: z.string().default(""),
      dbSize: count.default(0),
      /** Absent (zero) when the member knows no leader. */
      leader: id.optional(),
      raftIndex: count.default(0),
      raftTerm: count.default(0),
      errors: z.array(z.string()).default([]),
    }),
  }),
);

const EndpointHealthJson = z.array(
  z.object({ endpoint: z.string(), health: z.boolean(), error: z.string().optional() }),
);

const dialTimeoutS = 2;

/** The real port: the host's etcdctl (API v3), argv only, always `-w json`, bounded timeouts. */
export function createEtcdctlPort(options: EtcdctlPortOptions): EtcdPort {
  const binary = options.binary ?? "etcdctl";
  const fileExists = options.fileExists ?? existsSync;

  async function run(endpoints: string[], args: string[], commandTimeoutS: number): Promise<ExecResult> {
    const settings = options.settings();
    const argv = [
      binary,
      `--endpoints=${endpoints.join(",")}`,
      ...tlsArgs(settings, endpoints),
      `--dial-timeout=${dialTimeoutS}s`,
      `--command-timeout=${commandTimeoutS}s`,
      "-w",
      "json",
      ...args,
    ];
    try {
      return await options.exec({
        argv,
        env: { ETCDCTL_API: "3" },
        // endpoint status asks endpoints one after another
        timeoutMs: (dialTimeoutS + commandTimeoutS) * 1000 * Math.max(1, endpoints.length) + 5_000,
      });
    } catch (err) {
      throw new RunosError("NA_EXEC_FAILED", `${binary} could not be run`, {
        cause: err,
        hint: "install etcdctl (Debian: etcd-client) on this control-plane node",
      });
    }
  }

  function tlsArgs(settings: EtcdSettings, endpoints: string[]): string[] {
    if (!endpoints.some((e) => e.startsWith("https:"))) return [];
    const { cacert, cert, key } = settings.tls;
    for (const path of [cacert, cert, key]) {
      if (!fileExists(path)) {
        throw new RunosError("NA_NOT_FOUND", `etcd client certificate file ${path} does not exist`, {
          hint: "run this on a control-plane node, or set etcd.cacert/etcd.cert/etcd.key (or --cacert/--cert/--key)",
        });
      }
    }
    return [`--cacert=${cacert}`, `--cert=${cert}`, `--key=${key}`];
  }

  function failure(what: string, endpoints: string[], result: ExecResult): RunosError {
    const why = result.timedOut
      ? "timed out"
      : etcdctlError(result.stderr) || `exited with ${result.exitCode}`;
    return new RunosError("NA_EXEC_FAILED", `etcdctl ${what} at ${endpoints.join(",")} failed: ${why}`, {
      hint: "check that etcd runs on this node and that etcd.endpoints, etcd.cacert/cert/key are right (or pass --endpoints/--cacert/--cert/--key)",
    });
  }

  return {
    endpoints: () => options.settings().endpoints,

    async memberList(endpoints = options.settings().endpoints): Promise<EtcdMemberList> {
      const result = await run(endpoints, ["member", "list"], 5);
      if (result.exitCode !== 0) throw failure("member list", endpoints, result);
      const parsed = parseOutput(MemberListJson, result.stdout, "member list");
      return {
        clusterId: memberIdFromJson(parsed.header.cluster_id, "cluster id"),
        answeredBy: memberIdFromJson(parsed.header.member_id, "member id"),
        members: parsed.members.map((m) => ({
          id: memberIdFromJson(m.ID, "member id"),
          name: m.name,
          peerUrls: m.peerURLs,
          clientUrls: m.clientURLs,
          isLearner: m.isLearner,
        })),
      };
    },

    async endpointStatus(endpoints): Promise<EtcdEndpointStatus[]> {
      if (endpoints.length === 0) return [];
      // A non-zero exit still prints the endpoints that answered.
      const result = await run(endpoints, ["endpoint", "status"], 3);
      const parsed = EndpointStatusJson.safeParse(tryParse(result.stdout));
      if (!parsed.success) return [];
      return parsed.data.map(({ Endpoint, Status }) => {
        const leader = Status.leader === undefined ? "0" : memberIdFromJson(Status.leader, "leader id");
        return {
          endpoint: Endpoint,
          memberId: memberIdFromJson(Status.header.member_id, "member id"),
          leaderId: leader === "0" ? "" : leader,
          raftIndex: Status.raftIndex,
          raftTerm: Status.raftTerm,
          dbSizeBytes: Status.dbSize,
          version: Status.version,
          errors: Status.errors,
        };
      });
    },

    async endpointHealth(endpoints): Promise<EtcdEndpointHealth[]> {
      if (endpoints.length === 0) return [];
      const result = await run(endpoints, ["endpoint", "health"], 3);
      const parsed = EndpointHealthJson.safeParse(tryParse(result.stdout));
      if (!parsed.success) {
        const error = result.timedOut ? "timed out" : etcdctlError(result.stderr) || "no answer";
        return endpoints.map((endpoint) => ({ endpoint, healthy: false, error }));
      }
      return parsed.data.map((h) => ({
        endpoint: h.endpoint,
        healthy: h.health,
        ...(h.error ? { error: h.error } : {}),
      }));
    },

    async moveLeader(transfereeId, leaderEndpoints) {
      const result = await run(leaderEndpoints, ["move-leader", transfereeId], 5);
      if (result.exitCode !== 0) throw failure(`move-leader ${transfereeId}`, leaderEndpoints, result);
    },

    async memberRemove(memberId, endpoints = options.settings().endpoints) {
      const result = await run(endpoints, ["member", "remove", memberId], 5);
      if (result.exitCode === 0) return "removed";
      const error = etcdctlError(result.stderr);
      if (/unhealthy cluster/.test(error)) return "unhealthy-cluster";
      if (/member not found/.test(error)) return "not-found";
      throw failure(`member remove ${memberId}`, endpoints, result);
    },
  };
}

/** etcdctl's own message (`Error: ...`), not its zap warnings. */
export function etcdctlError(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const error = [...lines].reverse().find((l) => l.startsWith("Error:") || l.startsWith("Failed"));
  return (error ?? lines[lines.length - 1] ?? "").replace(/^Error:\s*/, "");
}

function tryParse(text: string): unknown {
  try {
    return parseJsonLossless(text);
  } catch {
    return undefined;
  }
}

function parseOutput<T>(schema: z.ZodType<T>, text: string, what: string): T {
  const parsed = schema.safeParse(tryParse(text));
  if (!parsed.success) {
    throw new RunosError("NA_EXEC_FAILED", `etcdctl ${what} printed unexpected JSON`, {
      hint: "runos expects etcdctl 3.4 or later",
      cause: parsed.error,
    });
  }
  return parsed.data;
}
