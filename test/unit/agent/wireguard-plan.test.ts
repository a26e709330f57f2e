import assert from "node:assert/strict";
import { test } from "node:test";
import {
  planPeerChanges,
  uapiLines,
  type WgPeer,
  wgSetArgs,
} from "../../../src/agent/host/wireguard-plan.js";

const peer = (n: number, endpoint = `198.18.0.${n}:51820`): WgPeer => ({
  publicKey: `${String.fromCharCode(64 + n).repeat(43)}=`,
  endpoint,
  allowedIps: [`172.24.1.${n}/32`],
  persistentKeepalive: 5,
});
const live = (p: WgPeer) => ({ ...p });

test("adds new, removes unwanted (full state only), leaves matching peers alone", () => {
  const desired = [peer(1), peer(2)];
  const current = [live(peer(1)), live(peer(3))];
  const changes = planPeerChanges(current, desired, undefined, true);
  assert.deepEqual(
    changes.map((c) => [c.kind, c.kind === "remove" ? c.publicKey : c.peer.publicKey]),
    [
      ["add", peer(2).publicKey],
      ["remove", peer(3).publicKey],
    ],
  );
  assert.equal(
    planPeerChanges(current, desired, undefined, false).filter((c) => c.kind === "remove").length,
    0,
  );
});

test("changed endpoint or allowed IPs update in place, never remove and re-add", () => {
  const before = peer(1);
  const moved = { ...peer(1, "203.0.113.9:51820"), allowedIps: ["172.24.1.1/32", "172.24.1.254/32"] };
  const changes = planPeerChanges([live(before)], [moved], new Map([[before.publicKey, before]]), true);
  assert.equal(changes.length, 1);
  assert.deepEqual(changes[0], {
    kind: "update",
    peer: moved,
    endpoint: true,
    allowedIps: true,
    keepalive: false,
  });
  const lines = uapiLines(changes, (k) => `hex(${k.slice(0, 2)})`);
  assert.deepEqual(lines, [
    "public_key=hex(AA)",
    "update_only=true",
    "endpoint=203.0.113.9:51820",
    "replace_allowed_ips=true",
    "allowed_ip=172.24.1.1/32",
    "allowed_ip=172.24.1.254/32",
  ]);
});

test("a roamed endpoint is kept while the desired endpoint has not changed", () => {
  const desired = peer(1);
  const roamed = { ...live(desired), endpoint: "203.0.113.50:40001" };
  assert.deepEqual(planPeerChanges([roamed], [desired], new Map([[desired.publicKey, desired]]), true), []);
});

test("wg set arguments express the same transaction for kernel WireGuard", () => {
  const changes = planPeerChanges([live(peer(3))], [peer(2, "[2001:db8::2]:51820")], undefined, true);
  assert.deepEqual(wgSetArgs(changes), [
    "peer",
    peer(2).publicKey,
    "endpoint",
    "[2001:db8::2]:51820",
    "persistent-keepalive",
    "5",
    "allowed-ips",
    "172.24.1.2/32",
    "peer",
    peer(3).publicKey,
    "remove",
  ]);
});
