// The overlay on real wireguard-go across NAT: real nodeward, real agents, real enrolment.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { addTopologyHost, exec, hostPath } from "../../lab/index.js";
import { RunosLab } from "../../lab/runos-cluster.js";
import { formatMatrix, isRoot, lostPackets, waitUntil } from "./overlay-support.js";

const skip = isRoot() ? false : "lab tests need root (network and mount namespaces)";

describe("WireGuard overlay across NAT", { skip, timeout: 600_000 }, () => {
  let lab: RunosLab;
  let lastAgentStarted = 0;

  before(async () => {
    lab = await RunosLab.start({ prefix: "tov", log: (line) => console.log(`${line}`) });
    lastAgentStarted = Date.now();
  });
  after(async () => {
    await lab?.destroy();
  });

  const overlayIp = async (name: string) => (await lab.overlayAddresses()).get(name) ?? "";
  const wgPeers = async (name: string) => {
    const node = lab.nodes.get(name);
    assert.ok(node, `node ${name}`);
    return (await exec(node.host.host, ["wg", "show", "wg0", "peers"])).stdout
      .trim()
      .split("\n")
      .filter(Boolean);
  };

  test("four hosts (public, two behind NAT-A, one behind NAT-B) form a full mesh within 15 s", async () => {
    let matrix = await lab.pingMatrix();
    const allOk = (m: typeof matrix) => [...m.values()].every((row) => [...row.values()].every(Boolean));
    while (!allOk(matrix) && Date.now() - lastAgentStarted < 15_000) matrix = await lab.pingMatrix();
    console.log(formatMatrix(matrix));
    console.log(
      `mesh complete ${((Date.now() - lastAgentStarted) / 1000).toFixed(1)} s after the last agent started`,
    );
    for (const [from, to] of lab.expectedPairs())
      assert.equal(matrix.get(from)?.get(to), true, `${from} -> ${to}`);
    // Two nodes behind one NAT got different wg0 ports, so both stay reachable from NAT-B.
    const rows = await lab.nodeRows();
    const ports = rows.filter((r) => r.hostname === "a1" || r.hostname === "a2").map((r) => r.listenPort);
    assert.equal(new Set(ports).size, 2, `a1/a2 ports ${ports.join(",")}`);
  });

  test("a SET_VPN_PEERS with bad peers names them and still applies the valid ones", async () => {
    const a1 = lab.nodes.get("a1");
    assert.ok(a1);
    const valid = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
    const payload = {
      peers: [
        { pubKey: "short", endpointIp: "198.18.0.99", vpnIp: "172.24.1.200" },
        {
          pubKey: "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
          endpointIp: "evil.example.com",
          vpnIp: "172.24.1.201",
        },
        {
          pubKey: "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=",
          endpointIp: "10.0.0.0/8",
          vpnIp: "172.24.1.202",
        },
        { pubKey: valid, endpointIp: "198.18.0.99", vpnIp: "172.24.1.203" },
      ],
    };
    const answer = await lab.nodewardCli<{
      type: string;
      payload: { skipped: { pubKey: string; reason: string }[] };
    }>(["node", "exec", a1.nid, "SET_VPN_PEERS", JSON.stringify(payload)]);
    assert.equal(answer.type, "NODE_VPN_PEER");
    assert.deepEqual(
      answer.payload.skipped.map((s) => s.pubKey),
      payload.peers.slice(0, 3).map((p) => p.pubKey),
    );
    assert.ok((await wgPeers("a1")).includes(valid), "the valid peer was applied");
  });

  test("a fifth host joins everywhere without breaking running sessions", async () => {
    const a1 = lab.nodes.get("a1");
    assert.ok(a1);
    const target = await overlayIp("b1");
    const ping = exec(a1.host.host, ["ping", "-i", "0.2", "-c", "60", "-W", "1", target], {
      timeoutMs: 40_000,
    });
    await lab.addHost("a3", "nat-a");
    const result = await ping;
    const lost = lostPackets(result.stdout);
    console.log(`a1 -> b1 while a3 joined: ${lost} of 60 lost`);
    assert.ok(lost <= 1, `lost ${lost} packets: ${result.stdout}`);
    const started = Date.now();
    await waitUntil("a3 reaches every node and every node reaches a3", 15_000, async () => {
      const matrix = await lab.pingMatrix();
      return [...matrix].every(([from, row]) =>
        [...row].every(([to, ok]) => ok || (from !== "a3" && to !== "a3")),
      );
    });
    console.log(`a3 meshed ${((Date.now() - started) / 1000).toFixed(1)} s after its install finished`);
  });

  test("deleting a node removes it as a peer from every other node within 5 s", async () => {
    const rows = await lab.nodeRows();
    const a3Key = rows.find((r) => r.hostname === "a3")?.vpnPubKey as string;
    assert.ok(a3Key);
    const started = Date.now();
    await lab.deleteNode("a3");
    await waitUntil("a3 gone from every wg0", 5_000, async () => {
      for (const name of lab.nodes.keys()) if ((await wgPeers(name)).includes(a3Key)) return false;
      return true;
    });
    console.log(`a3 removed everywhere ${((Date.now() - started) / 1000).toFixed(1)} s after the delete`);
  });

  test("restarting an agent keeps wg0 up: pings to and between nodes continue", async () => {
    const pub1 = lab.nodes.get("pub1");
    assert.ok(pub1);
    const target = await overlayIp("a1");
    const ping = exec(pub1.host.host, ["ping", "-i", "0.2", "-c", "40", "-W", "1", target], {
      timeoutMs: 30_000,
    });
    await lab.restartAgent("a1");
    const lost = lostPackets((await ping).stdout);
    console.log(`pub1 -> a1 across an a1 agent restart: ${lost} of 40 lost`);
    assert.ok(lost <= 1);
  });

  test("with nodeward stopped the overlay keeps working", async () => {
    await lab.stopNodeward("SIGKILL");
    try {
      const matrix = await lab.pingMatrix();
      console.log(formatMatrix(matrix));
      for (const [from, to] of lab.expectedPairs())
        assert.equal(matrix.get(from)?.get(to), true, `${from} -> ${to}`);
    } finally {
      await lab.startNodeward();
    }
  });

  test("a user device gets a wg1 config from `nodeward user add` and reaches nodes through it", async () => {
    await waitUntil("all agents back online", 20_000, async () =>
      (await lab.nodeRows()).every((r) => r.online),
    );
    const grant = await lab.nodewardCli<{ ip: string; config: string; gateway: { hostname: string } }>([
      "user",
      "add",
      "alice-laptop",
      "--cluster",
      "demo",
    ]);
    assert.match(grant.ip, /^172\.24\.20[0-7]\.\d+$/);
    assert.match(grant.config, /PrivateKey = .+\n/);
    const laptop = await addTopologyHost(lab.topo, { name: "laptop", segment: "public" });
    writeFileSync(hostPath(laptop.host, "/etc/wireguard/runos.conf"), grant.config, { mode: 0o600 });
    const up = await exec(laptop.host, ["wg-quick", "up", "runos"], {
      env: { WG_QUICK_USERSPACE_IMPLEMENTATION: "wireguard-go" },
      timeoutMs: 30_000,
    });
    assert.equal(up.code, 0, up.stderr);
    const gatewayIp = await overlayIp(grant.gateway.hostname);
    const behindNat = await overlayIp("b1");
    await waitUntil("laptop pings its gateway's wg0 address", 15_000, async () => {
      return (
        (await exec(laptop.host, ["ping", "-c", "1", "-W", "1", gatewayIp], { timeoutMs: 5_000 })).code === 0
      );
    });
    await waitUntil("laptop pings a node behind NAT-B through the gateway", 15_000, async () => {
      return (
        (await exec(laptop.host, ["ping", "-c", "1", "-W", "1", behindNat], { timeoutMs: 5_000 })).code === 0
      );
    });
    console.log(
      `laptop (${grant.ip}) reached ${grant.gateway.hostname} ${gatewayIp} and b1 ${behindNat} over wg1`,
    );
  });
});
