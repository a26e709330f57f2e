import assert from "node:assert/strict";
import { test } from "node:test";
import type { Exec, ExecRequest, ExecResult } from "../../../src/agent/host/exec.js";
import { createVipPort, parseIpAddrJson } from "../../../src/agent/host/vip.js";

function recordingExec(answer: (argv: readonly string[]) => Partial<ExecResult> = () => ({})) {
  const seen: ExecRequest[] = [];
  const exec: Exec = async (request) => {
    seen.push(request);
    return {
      exitCode: 0,
      signal: null,
      stdout: "",
      stderr: "",
      durationMs: 1,
      timedOut: false,
      ...answer(request.argv),
    };
  };
  return { exec, argv: () => seen.map((r) => r.argv.join(" ")) };
}

test("bind, unbind and announce are exact argv (no shell), a /32, arping -U -c 2", async () => {
  const { exec, argv } = recordingExec();
  const port = createVipPort(exec);
  await port.bind("wg0", "172.24.1.254");
  await port.unbind("wg0", "172.24.1.254");
  await port.announce("eth0", "198.18.0.100");
  assert.deepEqual(argv(), [
    "ip addr add 172.24.1.254/32 dev wg0",
    "ip addr del 172.24.1.254/32 dev wg0",
    "arping -q -U -c 2 -I eth0 198.18.0.100",
  ]);
});

test("an address already there (add) or already gone (del) is not an error; other failures are", async () => {
  const { exec } = recordingExec((argv) =>
    argv[2] === "add"
      ? { exitCode: 2, stderr: "Error: ipv4: Address already assigned." }
      : { exitCode: 2, stderr: "RTNETLINK answers: Cannot assign requested address" },
  );
  const port = createVipPort(exec);
  await port.bind("wg0", "172.24.1.254");
  await port.unbind("wg0", "172.24.1.254");
  const denied = createVipPort(
    recordingExec(() => ({ exitCode: 2, stderr: "RTNETLINK answers: Operation not permitted" })).exec,
  );
  await assert.rejects(
    denied.bind("wg0", "172.24.1.254"),
    /ip exited with 2: RTNETLINK answers: Operation not permitted/,
  );
});

test("values that could be read as options or are not IPv4 are refused before anything runs", async () => {
  const { exec, argv } = recordingExec();
  const port = createVipPort(exec);
  await assert.rejects(port.bind("-n", "172.24.1.254"), /invalid interface name/);
  await assert.rejects(port.bind("wg0", "-1"), /not an IPv4 address/);
  await assert.rejects(port.announce("eth0", "fe80::1"), /not an IPv4 address/);
  assert.deepEqual(argv(), []);
});

test("inspect: addresses and link type from `ip -j addr show`, undefined for a missing device", async () => {
  const json = JSON.stringify([
    {
      ifname: "eth0",
      link_type: "ether",
      addr_info: [
        { family: "inet", local: "198.18.0.11", prefixlen: 24 },
        { family: "inet", local: "198.18.0.100", prefixlen: 32 },
        { family: "inet6", local: "fe80::1", prefixlen: 64 },
      ],
    },
  ]);
  const { exec, argv } = recordingExec((a) =>
    a[5] === "eth0" ? { stdout: json } : { exitCode: 1, stderr: 'Device "wg0" does not exist.' },
  );
  const port = createVipPort(exec);
  assert.deepEqual(await port.inspect("eth0"), {
    linkType: "ether",
    ipv4: ["198.18.0.11/24", "198.18.0.100/32"],
  });
  assert.equal(await port.inspect("wg0"), undefined);
  assert.deepEqual(argv(), ["ip -j addr show dev eth0", "ip -j addr show dev wg0"]);
  assert.deepEqual(parseIpAddrJson(""), { linkType: "", ipv4: [] });
});
