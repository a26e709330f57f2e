// The lab network: isolation, NAT semantics, UDP port preservation, wireguard-go across the NAT,
// adding/removing hosts, and a teardown that leaves nothing.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { after, before, test } from "node:test";
import {
  addTopologyHost,
  createTopology,
  destroyTopology,
  downAll,
  ensurePackages,
  exec,
  execOk,
  exposeHostPort,
  exposeVmPort,
  hostPath,
  isAlive,
  type LabProcess,
  listHostNames,
  removeTopologyHost,
  SEGMENTS,
  STATE_DIR,
  type Topology,
  type TopologyHost,
  tearDownOnSignal,
  topologyHost,
  topologyRouter,
  topologyRouters,
  waitFor,
} from "../../lab/index.js";
import { labSuite, observedSource, pings, startObserver } from "./support.js";
import { addPeer, endpointOf, linkUp, startWg } from "./wireguard.js";

const PREFIX = "tlt"; // this file's hosts: labhost-tlt-*
const started: LabProcess[] = [];

labSuite("lab topology", { timeout: 60_000 }, () => {
  let topo: Topology;
  const host = (name: string): TopologyHost => topologyHost(topo, name);

  before(async () => {
    await ensurePackages();
    await downAll(`${PREFIX}-*`); // leftovers of a crashed earlier run
    tearDownOnSignal(() => downAll(`${PREFIX}-*`));
    topo = await createTopology({ prefix: PREFIX });
  });

  after(async () => {
    await Promise.allSettled(started.map((p) => p.stop()));
    await downAll(`${PREFIX}-*`);
  });

  test("the typed description matches the address plan", () => {
    assert.deepEqual(Object.keys(topo.hosts).sort(), ["a1", "a2", "b1", "nodeward", "pub1"]);
    assert.equal(host("nodeward").ip, "198.18.0.10");
    assert.equal(host("a1").gateway, "10.10.1.1");
    assert.equal(host("b1").publicIp, "198.18.0.253");
    assert.deepEqual(
      topologyRouters(topo).map((r) => [r.name, r.segment, r.publicIp, r.lanIp]),
      [
        ["nata", "nat-a", "198.18.0.254", "10.10.1.1"],
        ["natb", "nat-b", "198.18.0.253", "10.10.2.1"],
      ],
    );
    assert.equal(topologyRouter(topo, "natb"), topo.routers["nat-b"]);
    assert.equal(SEGMENTS["nat-a"].subnet, "10.10.1.0/24");
  });

  test("each host sees only its own interfaces, hostname, machine id and private dirs", async () => {
    const machineIds = new Map<string, string>();
    const infrastructure = [topo.switchHost, ...topologyRouters(topo).map((r) => r.host)];
    for (const h of [...Object.values(topo.hosts).map((t) => t.host), ...infrastructure]) {
      const id = (await execOk(h, ["cat", "/etc/machine-id"])).trim();
      assert.match(id, /^[0-9a-f]{32}$/, `${h.name}: ${id}`);
      assert.equal((await execOk(h, ["cat", "/var/lib/dbus/machine-id"])).trim(), id, `${h.name}: dbus copy`);
      machineIds.set(h.name, id);
    }
    assert.equal(new Set(machineIds.values()).size, machineIds.size, "machine ids are unique per host");
    const vmId = readFileSync("/etc/machine-id", "utf8").trim();
    assert.ok(![...machineIds.values()].includes(vmId), "no host shows the VM's machine id");
    for (const h of Object.values(topo.hosts)) {
      const links = await execOk(h.host, ["ip", "-o", "link", "show"]);
      const names = [...links.matchAll(/^\d+: ([^:@]+)/gm)].map((m) => m[1]).sort();
      assert.deepEqual(names, ["eth0", "lo"], `${h.name}: ${links}`);
      assert.equal(
        (await execOk(h.host, ["ls", "/sys/class/net"])).split(/\s+/).filter(Boolean).sort().join(" "),
        "eth0 lo",
      );
      assert.equal((await execOk(h.host, ["hostname"])).trim(), h.name);
    }
    const a1 = host("a1").host;
    await execOk(a1, ["mkdir", "-p", "/run/runos"]);
    await execOk(a1, ["tee", "/etc/runos/who", "/run/runos/who"], { input: "a1\n" });
    for (const other of ["a2", "nodeward"]) {
      assert.equal((await exec(host(other).host, ["cat", "/etc/runos/who"])).code, 1);
      assert.equal((await exec(host(other).host, ["cat", "/run/runos/who"])).code, 1);
    }
    assert.equal(readFileSync(hostPath(a1, "/run/runos/who"), "utf8"), "a1\n");
  });

  test("private hosts reach the public segment; nothing reaches into a LAN", async () => {
    const nodeward = host("nodeward").ip;
    for (const name of ["a1", "a2", "b1", "pub1"])
      assert.ok(await pings(host(name).host, nodeward), `${name} -> nodeward`);
    assert.ok(await pings(host("a1").host, host("a2").ip), "a1 -> a2 on the same LAN");
    assert.ok(!(await pings(host("a1").host, host("b1").ip)), "a1 -> b1 across LANs must fail");
    const pub1 = host("pub1").host;
    assert.ok(!(await pings(pub1, host("a1").ip)), "pub1 has no route into a LAN");
    // Even with a route through the router, the stateful forward chain lets only replies in.
    await execOk(pub1, ["ip", "route", "add", "10.10.0.0/16", "via", topologyRouter(topo, "nat-a").publicIp]);
    try {
      assert.ok(!(await pings(pub1, host("a1").ip)), "pub1 -> a1 via the router must fail");
    } finally {
      await execOk(pub1, ["ip", "route", "del", "10.10.0.0/16"]);
    }
  });

  test("outbound traffic from a LAN appears from the router's public address", async () => {
    const nodeward = host("nodeward");
    const observer = await startObserver(nodeward.host, "tcp", nodeward.ip, 7000);
    started.push(observer);
    const seenFrom = async (name: string) =>
      (await observedSource(host(name).host, "tcp", nodeward.ip, 7000)).split(":")[0];
    try {
      assert.equal(await seenFrom("a1"), "198.18.0.254");
      assert.equal(await seenFrom("a2"), "198.18.0.254");
      assert.equal(await seenFrom("b1"), "198.18.0.253");
      assert.equal(await seenFrom("pub1"), "198.18.0.11");
    } finally {
      await observer.stop();
    }
  });

  test("UDP source ports survive the NAT unless the mapping is taken", async (t) => {
    const pub1 = host("pub1");
    const observer = await startObserver(pub1.host, "udp", pub1.ip, 51820);
    started.push(observer);
    try {
      const a1 = await observedSource(host("a1").host, "udp", pub1.ip, 51820, 51820);
      const b1 = await observedSource(host("b1").host, "udp", pub1.ip, 51820, 51820);
      const a2 = await observedSource(host("a2").host, "udp", pub1.ip, 51820, 51820);
      t.diagnostic(`UDP :51820 -> pub1:51820 seen as: a1 ${a1}, b1 ${b1}, a2 ${a2}`);
      assert.equal(a1, "198.18.0.254:51820", "masquerade keeps the port");
      assert.equal(b1, "198.18.0.253:51820", "natb keeps the port too");
      assert.match(a2, /^198\.18\.0\.254:\d+$/);
      assert.notEqual(a2, a1, "a second flow to the same peer must get another port");
    } finally {
      await observer.stop();
    }
  });

  test("wireguard-go tunnels between pub1 and a1 behind the NAT, both directions", async (t) => {
    const [pub1, a1] = await Promise.all([
      startWg(host("pub1"), "172.24.0.1"),
      startWg(host("a1"), "172.24.0.2"),
    ]);
    started.push(pub1.proc, a1.proc);
    try {
      // pub1 first: a1's first handshake must find pub1 ready (else REKEY_TIMEOUT, 5 s).
      await addPeer(pub1, a1);
      await linkUp(pub1);
      await addPeer(a1, pub1, { endpoint: `${pub1.host.ip}:51820`, keepaliveS: 2 });
      await linkUp(a1);
      const t0 = Date.now();
      await waitFor("a1 -> pub1 over wg0", () => pings(a1.host.host, pub1.overlayIp), { timeoutMs: 12_000 });
      await waitFor("pub1 -> a1 over wg0", () => pings(pub1.host.host, a1.overlayIp), { timeoutMs: 12_000 });
      const endpoint = await endpointOf(pub1, a1);
      t.diagnostic(`wg0 up both ways in ${Date.now() - t0} ms; pub1 learned a1's endpoint ${endpoint}`);
      assert.match(endpoint, /^198\.18\.0\.254:\d+$/, "a1 is seen through the NAT");
      // Each host has its own /run/wireguard: a2 sees no interface, the VM has no socket from us.
      assert.equal((await execOk(host("a2").host, ["wg", "show", "interfaces"])).trim(), "");
      assert.equal((await execOk(pub1.host.host, ["wg", "show", "interfaces"])).trim(), "wg0");
      assert.ok(!existsSync("/run/wireguard/wg0.sock"));
    } finally {
      await Promise.all([pub1.proc.stop(), a1.proc.stop()]);
    }
  });

  test("relays: the VM reaches a service in nodeward; hosts reach a service on the VM's loopback", async () => {
    const nodeward = host("nodeward");
    const observer = await startObserver(nodeward.host, "tcp", nodeward.ip, 7001);
    started.push(observer);
    const inbound = await exposeHostPort(nodeward.host, { ip: nodeward.ip, port: 7001 });
    started.push(inbound.proc);
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        let data = "";
        connect(inbound.socketPath)
          .on("data", (chunk) => {
            data += chunk;
          })
          .on("end", () => resolve(data.trim()))
          .on("error", reject);
      });
      assert.equal(reply.split(":")[0], nodeward.ip, "the relay connects from inside nodeward");
    } finally {
      await inbound.close();
      await observer.stop();
    }

    const vmService = createServer((s) => s.end(`vm saw ${s.remoteAddress}\n`));
    await new Promise<void>((resolve) => vmService.listen(0, "127.0.0.1", resolve));
    const vmPort = (vmService.address() as AddressInfo).port;
    const outbound = await exposeVmPort(nodeward.host, { ip: nodeward.ip, port: 7002 }, vmPort);
    started.push(outbound.proc);
    try {
      assert.equal(await observedSource(host("a1").host, "tcp", nodeward.ip, 7002), "vm saw 127.0.0.1");
    } finally {
      await outbound.close();
      vmService.close();
    }
  });

  test("hosts can be added to and removed from a running topology", async () => {
    const [a3, pub2] = await Promise.all([
      addTopologyHost(topo, { name: "a3", segment: "nat-a" }),
      addTopologyHost(topo, { name: "pub2", segment: "public" }),
    ]);
    assert.equal(a3.ip, "10.10.1.12");
    assert.equal(pub2.ip, "198.18.0.12");
    assert.ok(await pings(a3.host, host("nodeward").ip));
    assert.ok(await pings(pub2.host, "nodeward"), "the public hosts are in each host's /etc/hosts");
    await removeTopologyHost(topo, "a3");
    await removeTopologyHost(topo, "pub2");
    assert.ok(!listHostNames().includes(a3.host.name));
    const routerLinks = await execOk(topologyRouter(topo, "nat-a").host, ["ip", "-o", "link", "show"]);
    assert.doesNotMatch(routerLinks, /v-a3/);
  });

  test("teardown leaves no namespace, process, mount or directory", async () => {
    const pids = started.map((p) => p.pid);
    await destroyTopology(topo);
    assert.deepEqual(
      listHostNames().filter((n) => n.startsWith(`${PREFIX}-`)),
      [],
    );
    const netns = existsSync("/run/netns") ? readdirSync("/run/netns") : [];
    assert.deepEqual(
      netns.filter((n) => n.startsWith(`labhost-${PREFIX}-`)),
      [],
    );
    assert.deepEqual(
      readdirSync("/tmp").filter((n) => n.startsWith(`labhost-${PREFIX}-`)),
      [],
    );
    assert.deepEqual(pids.filter(isAlive), []);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    assert.ok(!mounts.includes(`labhost-${PREFIX}-`) && !mounts.includes(`${STATE_DIR}/${PREFIX}-`), mounts);
    assert.ok(!existsSync(`${STATE_DIR}/${PREFIX}.topology.json`));
    if (listHostNames().length === 0) assert.ok(!mounts.includes(` ${STATE_DIR} `), "/run/labhost released");
  });
});
