import { RunosError } from "../../common/errors.js";
import type { EtcdPort } from "../host/etcd.js";
import { createEtcdctlPort } from "../host/etcdctl.js";
import type { Exec } from "../host/exec.js";
import type { Paths } from "../host/paths.js";
import { type AgentConfig, loadConfig } from "../identity/config.js";

/** How runos reaches etcd: kubeadm's stacked etcd and its PKI unless configured otherwise. */
export interface EtcdSettings {
  endpoints: string[];
  /** Machine paths (already under RUNOS_ROOT); only used when an endpoint is https. */
  tls: { cacert: string; cert: string; key: string };
}

/** CLI flags override config.yaml's `etcd.*` keys. */
export interface EtcdOverrides {
  endpoints?: string;
  cacert?: string;
  cert?: string;
  key?: string;
}

export function etcdSettings(paths: Paths, config: AgentConfig, overrides: EtcdOverrides = {}): EtcdSettings {
  const pick = (flag: string | undefined, configured: string) => (flag?.trim() ? flag.trim() : configured);
  return {
    endpoints: parseEndpoints(pick(overrides.endpoints, config.etcd.endpoints)),
    tls: {
      cacert: paths.onRoot(pick(overrides.cacert, config.etcd.cacert)),
      cert: paths.onRoot(pick(overrides.cert, config.etcd.cert)),
      key: paths.onRoot(pick(overrides.key, config.etcd.key)),
    },
  };
}

/** Comma-separated http(s) URLs; plain http is allowed (test clusters), anything else is refused. */
export function parseEndpoints(text: string): string[] {
  const endpoints = text
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  if (endpoints.length === 0) throw new RunosError("NA_INVALID_INPUT", "no etcd endpoint configured");
  for (const endpoint of endpoints) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw badEndpoint(endpoint);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw badEndpoint(endpoint);
  }
  return endpoints;
}

function badEndpoint(endpoint: string): RunosError {
  return new RunosError("NA_INVALID_INPUT", `"${endpoint}" is not an etcd endpoint URL`, {
    hint: "use https://HOST:2379 (several: comma-separated), e.g. `runos set-config etcd.endpoints https://127.0.0.1:2379`",
  });
}

/** The etcdctl port reading config.yaml at each call (flags, when given, win). */
export function configuredEtcdPort(paths: Paths, exec: Exec, overrides: EtcdOverrides = {}): EtcdPort {
  return createEtcdctlPort({ exec, settings: () => etcdSettings(paths, loadConfig(paths), overrides) });
}
