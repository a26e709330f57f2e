import { existsSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { parseDocument } from "yaml";
import * as z from "zod";
import { writeFileAtomic } from "../../common/atomic-file.js";
import { RunosError } from "../../common/errors.js";
import type { Paths } from "../host/paths.js";

/** /etc/runos/config.yaml, with the original agent's keys (spec 8.1) and runos additions. */
const port = z.coerce.number().int().min(1).max(65535);
export const AgentConfig = z.object({
  client: z
    .object({
      aid: z.string().default(""),
      server: z
        .object({
          nodeward: z.string().default(""),
          /** runos: L1Sec/L2Sec ports (the original hard-codes 9191/9192). */
          "l1-port": port.default(9191),
          "l2-port": port.default(9192),
        })
        .prefault({}),
    })
    .prefault({}),
  node: z
    .object({
      nid: z.string().default(""),
      /** Underlay address advertised to peers; detected at each start unless pinned here. */
      ip: z.string().default(""),
      /** runos: a public address the operator knows; never discovered by external lookups. */
      "external-ip": z.string().default(""),
    })
    .prefault({}),
  mtls: z
    .object({
      crt: z.string().default("/etc/runos/mtls.crt"),
      key: z.string().default("/etc/runos/mtls.key"),
      ca: z.string().default("/etc/runos/ca.crt"),
      "public-ca": z.string().default("/etc/runos/l1sec-ca.runos.public.pem"),
      /** SHA-256 of the L1Sec CA FILE bytes (original semantics). */
      "public-ca-sha256": z.string().default(""),
    })
    .prefault({}),
  agent: z
    .object({
      /** Seconds between heartbeats. */
      "heartbeat-interval": z.coerce.number().positive().default(5),
      /** Renew the client certificate once this fraction of its lifetime has passed. */
      "renew-at-fraction": z.coerce.number().gt(0).lt(1).default(0.5),
    })
    .prefault({}),
  /** runos: how `runos etcd` and REMOVE_ETCD_MEMBER reach etcd (kubeadm's stacked etcd by default). */
  etcd: z
    .object({
      /** Comma-separated client URLs. */
      endpoints: z.string().default("https://127.0.0.1:2379"),
      cacert: z.string().default("/etc/kubernetes/pki/etcd/ca.crt"),
      cert: z.string().default("/etc/kubernetes/pki/etcd/healthcheck-client.crt"),
      key: z.string().default("/etc/kubernetes/pki/etcd/healthcheck-client.key"),
    })
    .prefault({}),
  /** runos: where this node binds the control-plane VIP when it holds it (docs/vip.md). */
  vip: z
    .object({
      /** wg0, or a layer-2 interface shared with the other control planes (moves announced by ARP). */
      interface: z
        .string()
        .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,14}$/, "an interface name")
        .default("wg0"),
      /** Overrides the VIP the control plane names (172.24.<c>.254), e.g. an address on that segment. */
      address: z.union([z.ipv4(), z.literal("")]).default(""),
    })
    .prefault({}),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

export function loadConfig(paths: Paths): AgentConfig {
  const raw = readRawConfig(paths);
  const parsed = AgentConfig.safeParse(raw);
  if (!parsed.success) {
    throw new RunosError("NA_INVALID_INPUT", `${paths.configFile}: ${z.prettifyError(parsed.error)}`, {
      hint: "fix the file or set the key again with `runos set-config KEY VALUE`",
    });
  }
  return parsed.data;
}

function readRawConfig(paths: Paths): unknown {
  if (!existsSync(paths.configFile)) return {};
  const doc = parseDocument(readFileSync(paths.configFile, "utf8"));
  if (doc.errors.length > 0) {
    throw new RunosError("NA_INVALID_INPUT", `${paths.configFile}: ${doc.errors[0]?.message}`);
  }
  return doc.toJS() ?? {};
}

/**
 * Sets dotted keys, keeping the file's comments and other keys; validated before it is written,
 * so a bad value changes nothing.
 */
export async function updateConfig(
  paths: Paths,
  values: Record<string, string | number>,
): Promise<AgentConfig> {
  const text = existsSync(paths.configFile) ? readFileSync(paths.configFile, "utf8") : "";
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new RunosError("NA_INVALID_INPUT", `${paths.configFile}: ${doc.errors[0]?.message}`);
  for (const [key, value] of Object.entries(values)) {
    const path = key.split(".");
    if (path.some((part) => part === "")) throw new RunosError("NA_INVALID_INPUT", `invalid key "${key}"`);
    doc.setIn(path, value);
  }
  const parsed = AgentConfig.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new RunosError("NA_INVALID_INPUT", z.prettifyError(parsed.error));
  await writeFileAtomic(paths.configFile, doc.toString(), { mode: 0o644 });
  return parsed.data;
}

/** First non-loopback, non-overlay IPv4 address: what the node advertises when node.ip is unset. */
export function detectNodeIp(): string {
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    if (name.startsWith("wg")) continue;
    for (const address of addresses ?? []) {
      if (address.family === "IPv4" && !address.internal) return address.address;
    }
  }
  return "";
}

export function isRegistered(config: AgentConfig): boolean {
  return config.node.nid !== "" && config.node.nid !== "xxxxx";
}
