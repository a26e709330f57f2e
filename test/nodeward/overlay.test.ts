import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { enrol, l2Client, startNodeward, type TestNodeward } from "./helpers/nodeward.js";

describe("overlay addressing", () => {
  let t: TestNodeward;
  before(async () => {
    t = await startNodeward();
  });
  after(async () => {
    await t.close();
  });

  test("concurrent registrations get distinct addresses in their cluster's /24; clusters get distinct /24s", async () => {
    const first = await Promise.all(Array.from({ length: 12 }, () => enrol(t, { cluster: "alpha" })));
    const second = await Promise.all(Array.from({ length: 3 }, () => enrol(t, { cluster: "beta" })));
    const overlay = async (nid: string) => (await t.nw.store.getNode(nid))?.overlayIp ?? "";
    const alpha = await Promise.all(first.map((n) => overlay(n.nid)));
    const beta = await Promise.all(second.map((n) => overlay(n.nid)));
    assert.equal(new Set(alpha).size, 12);
    const subnet = (ip: string) => ip.split(".").slice(0, 3).join(".");
    assert.equal(new Set(alpha.map(subnet)).size, 1);
    assert.equal(new Set(beta.map(subnet)).size, 1);
    assert.notEqual(subnet(alpha[0] ?? ""), subnet(beta[0] ?? ""));
    for (const ip of [...alpha, ...beta])
      assert.match(ip, /^172\.24\.\d+\.([1-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-3])$/);
  });

  test("a deleted node's address is freed and reused", async () => {
    const node = await enrol(t, { cluster: "gamma" });
    const ip = (await t.nw.store.getNode(node.nid))?.overlayIp;
    await t.nw.deleteNode(node.nid);
    assert.equal((await t.nw.store.getNode(node.nid))?.overlayIp, null);
    const next = await enrol(t, { cluster: "gamma" });
    assert.equal((await t.nw.store.getNode(next.nid))?.overlayIp, ip);
  });

  test("the VPN install list carries the node's address; the port is fixed at the first call", async () => {
    const node = await enrol(t, { cluster: "delta" });
    const client = l2Client(t, node);
    const ip = (await t.nw.store.getNode(node.nid))?.overlayIp;
    const first = (await client.getInstallVpnCommands({})).commands.map((c) => c.command);
    assert.ok(first.includes(`ip address replace ${ip}/24 dev wg0`));
    assert.ok(first.some((c) => c.includes("listen-port 51820")));
    const again = (await client.getInstallVpnCommands({})).commands.map((c) => c.command);
    assert.deepEqual(again, first, "re-running the install is identical");
    // A second node seen from the same address (same NAT) gets another port.
    const neighbour = await enrol(t, { cluster: "delta" });
    const second = (await l2Client(t, neighbour).getInstallVpnCommands({})).commands.map((c) => c.command);
    assert.ok(second.some((c) => c.includes("listen-port 51822")));
    assert.ok(
      !first.some((c) => c.includes("private_key") && c.includes("wg genkey") && !c.includes("[ -s")),
      "the key is generated only if absent",
    );
  });
});
