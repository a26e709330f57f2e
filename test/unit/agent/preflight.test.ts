import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { classifyFailure } from "../../../src/agent/install/classify.js";
import type { PreflightHost } from "../../../src/agent/preflight/host.js";
import { installMarker, renderReport, runPreflight } from "../../../src/agent/preflight/run.js";

/** A healthy control-plane machine; each test breaks one thing. */
function fakeHost(
  over: Partial<PreflightHost> & { files?: Record<string, string>; ports?: number[] } = {},
): PreflightHost {
  const files: Record<string, string> = {
    "/proc/sys/kernel/hostname": "cp1\n",
    "/etc/machine-id": `${"ab".repeat(16)}\n`,
    "/sys/fs/cgroup/cgroup.controllers": "cpu memory pids io\n",
    "/proc/swaps": "Filename Type Size Used Priority\n",
    "/proc/self/status": "CapBnd:\t000001ffffffffff\n",
    ...over.files,
  };
  return {
    euid: () => 0,
    read: (p) => files[p],
    exists: (p) => p in files || Object.keys(files).some((f) => f.startsWith(`${p}/`)),
    list: (dir) =>
      Object.keys(files)
        .filter((f) => f.startsWith(`${dir}/`))
        .map((f) => f.slice(dir.length + 1)),
    writable: () => true,
    listeningTcpPorts: () => new Set(over.ports ?? []),
    ipv4Addresses: () => [
      { iface: "lo", address: "127.0.0.1", prefix: 8 },
      { iface: "eth0", address: "198.18.0.11", prefix: 24 },
      { iface: "wg0", address: "172.24.1.1", prefix: 24 },
    ],
    onPath: () => true,
    cpuCount: () => 2,
    memoryBytes: () => 4 * 1024 ** 3,
    freeBytes: () => 50 * 1024 ** 3,
    resolve: async (h) => (h === "nodeward" ? "198.18.0.10" : undefined),
    connect: async (_h, port) => (port === 9192 ? "ok" : port === 9191 ? "ok" : "refused"),
    ...over,
  };
}

const cp = { kubernetes: true, role: "control-plane" as const };

describe("runos preflight", () => {
  test("a healthy machine passes every check", async () => {
    const report = await runPreflight(fakeHost(), cp);
    assert.equal(report.ok, true, renderReport(report));
    assert.equal(report.warnings, 0);
  });

  test("every failure is reported, not just the first, each with a code and a remedy", async () => {
    const report = await runPreflight(
      fakeHost({
        euid: () => 1000,
        cpuCount: () => 1,
        ports: [6443, 10250],
        files: { "/proc/sys/kernel/hostname": "My_Host\n", "/etc/kubernetes/admin.conf": "x" },
        ipv4Addresses: () => [{ iface: "docker0", address: "10.244.0.1", prefix: 16 }],
      }),
      cp,
    );
    const blocked = report.results.filter((r) => r.status === "block").map((r) => r.name);
    assert.deepEqual(blocked, [
      "root",
      "hostname",
      "resources",
      "wireguard",
      "pod-network",
      "ports",
      "existing-kubernetes",
    ]);
    for (const r of report.results.filter((x) => x.status === "block")) {
      assert.match(r.code ?? "", /^NA_/);
      assert.ok(r.remedy);
    }
    assert.match(renderReport(report), /7 blocking issue\(s\)/);
  });

  test("a worker needs one CPU and only port 10250", async () => {
    const report = await runPreflight(fakeHost({ cpuCount: () => 1, ports: [6443] }), {
      kubernetes: true,
      role: "worker",
    });
    assert.equal(report.ok, true, renderReport(report));
  });

  test("re-running after a partial install: its own ports and files are not leftovers", async () => {
    const report = await runPreflight(
      fakeHost({ ports: [6443, 10250], files: { [installMarker]: "x", "/etc/kubernetes/admin.conf": "x" } }),
      cp,
    );
    assert.equal(report.ok, true, renderReport(report));
  });

  test("cgroup v1 and a missing CAP_SYS_RESOURCE only warn", async () => {
    const host = fakeHost({ files: { "/proc/self/status": "CapBnd:\t000001fffeffffff\n" } });
    const v1: PreflightHost = {
      ...host,
      exists: (p) =>
        p === "/sys/fs/cgroup/cgroup.controllers" ? false : p.startsWith("/sys/fs/cgroup/") || host.exists(p),
    };
    const report = await runPreflight(v1, cp);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.results.filter((r) => r.status === "warn").map((r) => r.name),
      ["cgroups", "oom-score"],
    );
  });

  test("without --kubernetes only the machine checks run", async () => {
    const report = await runPreflight(fakeHost({ cpuCount: () => 1 }), { kubernetes: false, role: "worker" });
    assert.deepEqual(
      report.results.map((r) => r.name),
      ["root", "hostname", "machine-id", "nodeward-reachable"],
    );
  });

  test("the install classifier takes preflight's own code, cause and remedy", async () => {
    const report = await runPreflight(fakeHost({ ports: [2379] }), cp);
    const c = classifyFailure("runos preflight --kubernetes", renderReport(report));
    assert.equal(c.code, "NA_CONFLICT");
    assert.match(c.cause, /ports: TCP port\(s\) 2379 in use/);
    assert.match(c.remedy, /ss -ltnp/);
  });

  test("nodeward unreachable: names the host, the address and each port's failure", async () => {
    const server = { host: "nodeward", l1Port: 9191, l2Port: 9192 };
    const ok = await runPreflight(fakeHost(), { ...cp, server });
    assert.equal(ok.results.find((r) => r.name === "nodeward-reachable")?.status, "pass");
    const refused = await runPreflight(
      fakeHost({ connect: async (_h, p) => (p === 9192 ? "timed out" : "ok") }),
      { ...cp, server },
    );
    const check = refused.results.find((r) => r.name === "nodeward-reachable");
    assert.equal(check?.status, "block");
    assert.equal(check?.code, "NA_UNREACHABLE");
    assert.match(check?.message ?? "", /198\.18\.0\.10\): TCP 9192 timed out/);
    const unknown = await runPreflight(fakeHost(), { ...cp, server: { ...server, host: "nowhere" } });
    assert.equal(unknown.results.find((r) => r.name === "nodeward-reachable")?.code, "NA_NET_UNREACH");
  });

  test("the classifier knows a bundle checksum mismatch and an unreachable API load balancer", () => {
    assert.equal(
      classifyFailure("x", "runos: checksum mismatch for bin/kubelet: expected a, got b").code,
      "NA_CHECKSUM",
    );
    assert.equal(
      classifyFailure("x", "the API load balancer on 127.0.0.1:6446 is not running").code,
      "NA_UNREACHABLE",
    );
    // kubeadm's harmless "could not fetch a Kubernetes version" warning is not a network failure
    const out =
      "could not fetch a Kubernetes version from the internet: network is unreachable, falling back to the local client version\nerror execution phase preflight";
    assert.equal(classifyFailure("kubeadm init", out).code, "NA_KUBEADM");
  });
});
