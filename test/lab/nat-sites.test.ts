// Two NAT sites: each LAN behind its own router, port-preserving masquerade, nothing unsolicited comes in;
// hosts in NAT-A and NAT-B reach each other only through the public addresses, by hole punching.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import {
  createTopology,
  downAll,
  ensurePackages,
  exec,
  execOk,
  type LabHost,
  type LabProcess,
  type Topology,
  type TopologyHost,
  tearDownOnSignal,
  topologyHost,
  topologyRouter,
  waitFor,
} from "../../lab/index.js";
import { labSuite, pings, startObserver, udpPunch } from "./support.js";
import { addPeer, endpointOf, linkUp, startWg } from "./wireguard.js";

const PREFIX = "tls"; // this file's hosts: labhost-tls-*
const started: LabProcess[] = [];

/** Packets the router dropped as unsolicited on its public side (the counter on its input drop rule). */
async function unsolicitedDrops(router: LabHost): Promise<number> {
  const chain = await execOk(router, ["nft", "list", "chain", "inet", "labnat", "input"]);
  return Number(/counter packets (\d+)/.exec(chain)?.[1] ?? Number.NaN);
}

/** The router's conntrack entry for a UDP flow from a LAN host: the public port it was given. */
async function mappedPort(router: LabHost, lanIp: string, port: number, dst: string): Promise<number | null> {
  const table = await exec(router, ["cat", "/proc/net/nf_conntrack"]);
  const flow = new RegExp(
    `src=${lanIp} dst=${dst} sport=${port} dport=\\d+ .*?src=\\S+ dst=\\S+ sport=\\d+ dport=(\\d+)`,
  );
  const match = table.stdout.split("\n").find((l) => l.includes(" udp ") && flow.test(l));
  return match ? Number(flow.exec(match)?.[1]) : null;
}

labSuite("lab NAT sites", { timeout: 60_000 }, () => {
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

  test("each site has its own router with one public address and one LAN", async () => {
    for (const [router, own, other] of [
      [topologyRouter(topo, "nat-a"), "10.10.1.1/24", "10.10.2.1/24"],
      [topologyRouter(topo, "nat-b"), "10.10.2.1/24", "10.10.1.1/24"],
    ] as const) {
      const addrs = await execOk(router.host, ["ip", "-4", "-o", "addr", "show"]);
      assert.ok(addrs.includes(`${router.publicIp}/24`) && addrs.includes(own), addrs);
      assert.ok(!addrs.includes(other), `${router.name} must not serve the other LAN`);
      assert.equal((await execOk(router.host, ["hostname"])).trim(), router.name);
    }
    assert.ok(!(await pings(host("a1").host, host("b1").ip)), "no route from NAT-A to NAT-B's LAN");
    assert.ok(await pings(host("a1").host, topologyRouter(topo, "nat-b").publicIp), "NAT-B's router answers");
  });

  test("unsolicited inbound is dropped at the router, even to a port a LAN host listens on", async () => {
    const nata = topologyRouter(topo, "nat-a");
    const observer = await startObserver(host("a1").host, "udp", "0.0.0.0", 40100);
    started.push(observer);
    try {
      const before = await unsolicitedDrops(nata.host);
      assert.equal(await udpPunch(host("pub1").host, nata.publicIp, 40100, 40100, 1_000), null);
      assert.doesNotMatch(readFileSync(observer.logFile, "utf8"), /udp /, "a1 got a packet");
      assert.ok((await unsolicitedDrops(nata.host)) > before, "nata counted the drops");
    } finally {
      await observer.stop();
    }
  });

  test("UDP hole punching NAT-A <-> NAT-B keeps the ports on both sides", async (t) => {
    const [a1Saw, b1Saw] = await Promise.all([
      udpPunch(host("a1").host, topologyRouter(topo, "nat-b").publicIp, 40200, 40200, 5_000),
      udpPunch(host("b1").host, topologyRouter(topo, "nat-a").publicIp, 40200, 40200, 5_000),
    ]);
    t.diagnostic(`a1 heard b1 from ${a1Saw}; b1 heard a1 from ${b1Saw}`);
    assert.equal(a1Saw, "198.18.0.253:40200");
    assert.equal(b1Saw, "198.18.0.254:40200");
  });

  test("wireguard-go a1 <-> b1 across both NATs by simultaneous open", async (t) => {
    const nata = topologyRouter(topo, "nat-a");
    const natb = topologyRouter(topo, "nat-b");
    const [a1, b1] = await Promise.all([
      startWg(host("a1"), "172.26.0.1"),
      startWg(host("b1"), "172.26.0.2"),
    ]);
    started.push(a1.proc, b1.proc);
    // wg0 up first: wireguard-go handshakes as soon as a peer with keepalive exists, link up or not.
    await Promise.all([linkUp(a1), linkUp(b1)]);
    // a1 first: its handshake initiation opens nata's mapping and is dropped at natb (nothing asked for it).
    const drops = await unsolicitedDrops(natb.host);
    await addPeer(a1, b1, { endpoint: `${natb.publicIp}:51820`, keepaliveS: 2 });
    await waitFor(
      "natb to drop a1's first initiation",
      async () => (await unsolicitedDrops(natb.host)) > drops,
      {
        timeoutMs: 3_000,
      },
    );
    // b1's first initiation then finds nata's mapping open and gets through; a1's answer returns on it.
    await addPeer(b1, a1, { endpoint: `${nata.publicIp}:51820`, keepaliveS: 2 });
    const t0 = Date.now();
    await waitFor("a1 -> b1 over wg0", () => pings(a1.host.host, b1.overlayIp), { timeoutMs: 12_000 });
    const aToB = Date.now() - t0;
    await waitFor("b1 -> a1 over wg0", () => pings(b1.host.host, a1.overlayIp), { timeoutMs: 12_000 });
    const bToA = Date.now() - t0;
    const [a1Sees, b1Sees] = await Promise.all([endpointOf(a1, b1), endpointOf(b1, a1)]);
    t.diagnostic(`after b1 got its peer: a1 -> b1 in ${aToB} ms, b1 -> a1 in ${bToA} ms`);
    t.diagnostic(`a1 has b1 at ${a1Sees}, b1 has a1 at ${b1Sees}`);
    assert.equal(a1Sees, "198.18.0.253:51820", "natb kept b1's port");
    assert.equal(b1Sees, "198.18.0.254:51820", "nata kept a1's port");
  });

  test("a second NAT-A host towards the same remote address:port gets another public port", async (t) => {
    // a1's tunnel holds nata's 198.18.0.254:51820 <-> 198.18.0.253:51820; a2 from :51820 cannot have it.
    const nata = topologyRouter(topo, "nat-a");
    const natbIp = topologyRouter(topo, "nat-b").publicIp;
    assert.equal(await udpPunch(host("a2").host, natbIp, 51820, 51820, 500), null, "natb drops a2's packets");
    const port = await mappedPort(nata.host, host("a2").ip, 51820, natbIp);
    if (port === null) return t.skip("no /proc/net/nf_conntrack on this kernel");
    t.diagnostic(`a2:51820 -> ${natbIp}:51820 leaves nata as ${nata.publicIp}:${port}`);
    assert.notEqual(port, 51820);
  });
});
