import { isIP } from "node:net";

/** One Kubernetes API server behind the load balancer. */
export interface ApiEndpoint {
  host: string;
  port: number;
}

export interface HaproxyConfigInput {
  /** In the order they are rendered (callers sort them, so equal sets render equal files). */
  servers: readonly ApiEndpoint[];
  /** Frontend address, `*:6446` in production. */
  bind: string;
  /** Runtime API socket (`show stat`, `show servers state`), on the real file system. */
  adminSocket: string;
  /** Health state saved before each reload and loaded by the new worker. */
  serverStateFile: string;
  /** Send logs to /dev/log (only when a syslog socket exists there). */
  syslog: boolean;
}

export const frontendName = "k8s_api";
export const backendName = "k8s_api_backend";
export const defaultBind = "*:6446";

/** `host:port`, IPv6 literals in brackets (what HAProxy and the `kubeproxy` output use). */
export function endpointAddress(endpoint: ApiEndpoint): string {
  return isIP(endpoint.host) === 6
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`;
}

/** Stable per endpoint, so saved health state follows a server across reloads (HAProxy allows `:` and `.`). */
export function serverName(endpoint: ApiEndpoint): string {
  return `api-${endpoint.host}-${endpoint.port}`;
}

const dnsName =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * `https://10.0.0.5:6443`, `10.0.0.5:6443`, `[fd00::5]:6443` or a DNS name with a port. Returns the
 * endpoint or why it is refused (the original split on `:` and so never accepted IPv6).
 */
export function parseApiEndpoint(text: string): ApiEndpoint | { error: string } {
  let rest = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme) {
    if (scheme[1]?.toLowerCase() !== "https") return { error: "only https:// endpoints are balanced" };
    rest = rest.slice(scheme[0].length);
  }
  rest = rest.replace(/\/+$/, "");
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(rest);
  if (v6) {
    host = v6[1] ?? "";
    portText = v6[2] ?? "";
    if (isIP(host) !== 6) return { error: "not an IPv6 address inside the brackets" };
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon < 0) return { error: "expected host:port" };
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (host.includes(":")) return { error: "IPv6 addresses need brackets: [addr]:port" };
    if (isIP(host) !== 4 && !dnsName.test(host)) return { error: "not an IP address or DNS name" };
  }
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) return { error: "port must be 1-65535" };
  return { host: host.toLowerCase(), port };
}

/** Sorted, de-duplicated: the order HAProxy gets them in, independent of the order they came in. */
export function normaliseEndpoints(endpoints: readonly ApiEndpoint[]): ApiEndpoint[] {
  const unique = new Map(endpoints.map((e) => [endpointAddress(e), e]));
  return [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
}

/**
 * The whole haproxy.cfg (spec 7.5's layout plus what the original lacked): TLS health checks of
 * `/readyz` with short intervals, redispatch on connection failure, stable server names, a
 * runtime API socket and health state that survives reloads. No `daemon`: HAProxy runs in
 * master-worker mode in the foreground (systemd's `-Ws` or the agent's `-W`).
 */
export function renderHaproxyConfig(input: HaproxyConfigInput): string {
  const lines = [
    "# Written by the runos agent; changes are overwritten. See docs/load-balancer.md.",
    "global",
    ...(input.syslog ? ["    log /dev/log local0", "    log /dev/log local1 notice"] : []),
    "    user haproxy",
    "    group haproxy",
    `    stats socket ${input.adminSocket} mode 600 level admin`,
    `    server-state-file ${input.serverStateFile}`,
    // Old workers finish their connections after a reload, but not for ever.
    "    hard-stop-after 10m",
    "",
    "defaults",
    "    log global",
    "    mode tcp",
    "    option tcplog",
    "    option dontlognull",
    "    retries 3",
    "    option redispatch 1",
    "    load-server-state-from-file global",
    "    timeout connect 2s",
    "    timeout client 50s",
    "    timeout server 50s",
    // Established TCP connections (watches, exec, port-forward) idle up to an hour.
    "    timeout tunnel 1h",
    "    timeout check 2s",
    "",
    `frontend ${frontendName}`,
    `    bind ${input.bind}`,
    "    mode tcp",
    `    default_backend ${backendName}`,
    "",
    `backend ${backendName}`,
    "    mode tcp",
    "    balance roundrobin",
    // kube-apiserver answers /readyz anonymously (200, or 500 while not ready); 401/403 mean
    // anonymous access is off: the server still answers TLS and HTTP, so it counts as up.
    "    option httpchk GET /readyz",
    "    http-check expect rstatus ^(200|401|403)$",
    "    default-server check check-ssl verify none inter 1s fastinter 500ms downinter 2s fall 2 rise 2" +
      " observe layer4 error-limit 3 on-error mark-down init-addr last,libc,none",
    ...input.servers.map((s) => `    server ${serverName(s)} ${endpointAddress(s)}`),
    "",
  ];
  return lines.join("\n");
}

export interface ConfiguredBackend {
  name: string;
  servers: { name: string; address: string }[];
}

const sectionKeywords = new Set([
  "global",
  "defaults",
  "frontend",
  "backend",
  "listen",
  "peers",
  "resolvers",
  "userlist",
  "program",
  "mailers",
  "cache",
  "ring",
  "http-errors",
]);

/** Spec 6.5: the backends and servers written in a config file, sorted by backend name. */
export function parseConfiguredBackends(text: string): ConfiguredBackend[] {
  const backends: ConfiguredBackend[] = [];
  let current: ConfiguredBackend | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    if (sectionKeywords.has(fields[0] ?? "")) {
      current = fields[0] === "backend" && fields[1] ? { name: fields[1], servers: [] } : undefined;
      if (current) backends.push(current);
      continue;
    }
    if (current && fields[0] === "server" && fields.length >= 3) {
      current.servers.push({ name: fields[1] ?? "", address: fields[2] ?? "" });
    }
  }
  return backends.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
