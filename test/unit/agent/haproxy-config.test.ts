import assert from "node:assert/strict";
import { test } from "node:test";
import {
  normaliseEndpoints,
  parseApiEndpoint,
  parseConfiguredBackends,
  renderHaproxyConfig,
  serverName,
} from "../../../src/agent/host/haproxy-config.js";
import { golden as compareGolden } from "../../support/golden.js";

/** Compares with test/unit/agent/__golden__/NAME; `UPDATE_GOLDEN=1` rewrites the file instead. */
const golden = (name: string, actual: string) =>
  compareGolden(new URL(`./__golden__/${name}`, import.meta.url), actual);

const endpoint = (text: string) => {
  const parsed = parseApiEndpoint(text);
  assert.ok(!("error" in parsed), `${text}: ${JSON.stringify(parsed)}`);
  return parsed;
};

test("haproxy.cfg for three control planes (IPv4 and IPv6) with syslog", () => {
  const servers = normaliseEndpoints(
    ["https://172.24.3.4:6443", "https://172.24.3.2:6443", "https://[fd00:24::3]:6443"].map(endpoint),
  );
  golden(
    "haproxy.cfg",
    renderHaproxyConfig({
      servers,
      bind: "*:6446",
      adminSocket: "/run/haproxy/admin.sock",
      serverStateFile: "/run/haproxy/server-state",
      syslog: true,
    }),
  );
});

test("haproxy.cfg for one control plane by DNS name, without a syslog socket", () => {
  golden(
    "haproxy-single.cfg",
    renderHaproxyConfig({
      servers: [endpoint("api.cluster.example:6443")],
      bind: "127.0.0.1:16446",
      adminSocket: "/tmp/root/run/haproxy/admin.sock",
      serverStateFile: "/tmp/root/run/haproxy/server-state",
      syslog: false,
    }),
  );
});

test("endpoints: https:// and bare host:port, IPv6 only in brackets, ports 1-65535", () => {
  assert.deepEqual(parseApiEndpoint("https://10.0.0.5:6443"), { host: "10.0.0.5", port: 6443 });
  assert.deepEqual(parseApiEndpoint(" 10.0.0.5:6443/ "), { host: "10.0.0.5", port: 6443 });
  assert.deepEqual(parseApiEndpoint("https://[FD00::5]:6443"), { host: "fd00::5", port: 6443 });
  assert.deepEqual(parseApiEndpoint("CP-1.Example.com:443"), { host: "cp-1.example.com", port: 443 });
  const refused: [string, RegExp][] = [
    ["fd00::5:6443", /brackets/],
    ["http://10.0.0.5:6443", /https/],
    ["10.0.0.5", /host:port/],
    ["10.0.0.5:0", /port/],
    ["10.0.0.5:65536", /port/],
    ["10.0.0.5:64x", /port/],
    ["[10.0.0.5]:6443", /IPv6/],
    ["bad_host!:6443", /IP address or DNS name/],
    ["10.0.0.5:6443 extra", /./],
    ["", /host:port/],
  ];
  for (const [text, why] of refused) {
    const parsed = parseApiEndpoint(text);
    assert.ok("error" in parsed, `${JSON.stringify(text)} must be refused`);
    assert.match(parsed.error, why, text);
  }
});

test("the rendered order does not depend on the order received; duplicates collapse", () => {
  const a = normaliseEndpoints(["10.0.0.7:6443", "10.0.0.5:6443", "10.0.0.7:6443"].map(endpoint));
  const b = normaliseEndpoints(["10.0.0.5:6443", "10.0.0.7:6443"].map(endpoint));
  assert.deepEqual(a, b);
  assert.equal(serverName({ host: "fd00::1", port: 6443 }), "api-fd00::1-6443");
});

test("kubeproxy's config parse (spec 6.5): backends sorted, servers with name and address", () => {
  const text = [
    "global",
    "  log /dev/log local0",
    "backend zeta",
    "server z1 10.0.0.9:6443 check",
    "# server commented 1.1.1.1:1",
    "frontend k8s_api",
    "  server not-a-backend-server 1.2.3.4:5",
    "backend alpha",
    "    server a1 [fd00::1]:6443",
    "    server short",
    "",
  ].join("\n");
  assert.deepEqual(parseConfiguredBackends(text), [
    { name: "alpha", servers: [{ name: "a1", address: "[fd00::1]:6443" }] },
    { name: "zeta", servers: [{ name: "z1", address: "10.0.0.9:6443" }] },
  ]);
});
