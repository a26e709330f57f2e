// Links, addresses and the NAT ruleset, all through `ip -n` (netlink; no mount ns needed) or inside a
// host. Every link is created inside a lab namespace: nothing is ever added to the VM's root netns.
import { createHash } from "node:crypto";
import { execOk } from "./host.js";
import type { LabHost } from "./paths.js";
import { runOk } from "./run.js";

export async function addBridge(on: LabHost, bridge: string): Promise<void> {
  // A fixed MAC: a bridge otherwise takes the lowest MAC of its ports, so plugging in a new host
  // could change the gateway's MAC under its neighbours' ARP caches and drop their traffic for
  // seconds (seen as lost pings while a host joined).
  await runOk([
    "ip",
    "-n",
    on.netns,
    "link",
    "add",
    bridge,
    "address",
    bridgeMac(on.netns, bridge),
    "type",
    "bridge",
  ]);
  await runOk(["ip", "-n", on.netns, "link", "set", bridge, "up"]);
}

/**
 * A veth pair from a bridge port (`port`, in the bridge's namespace) to `ifname` in `host`.
 * `ip -n` runs in the bridge's netns, so the pair is born there and the peer goes straight into the host.
 */
export async function plugIntoBridge(
  bridgeHost: LabHost,
  bridge: string,
  port: string,
  host: LabHost,
  ifname: string,
): Promise<void> {
  await runOk([
    "ip",
    "-n",
    bridgeHost.netns,
    "link",
    "add",
    port,
    "type",
    "veth",
    "peer",
    "name",
    ifname,
    "netns",
    host.netns,
  ]);
  await runOk(["ip", "-n", bridgeHost.netns, "link", "set", port, "master", bridge, "up"]);
}

export async function unplugFromBridge(bridgeHost: LabHost, port: string): Promise<void> {
  await runOk(["ip", "-n", bridgeHost.netns, "link", "del", port]);
}

export async function addAddress(host: LabHost, ifname: string, cidr: string): Promise<void> {
  await runOk(["ip", "-n", host.netns, "addr", "add", cidr, "dev", ifname]);
}

export async function setLinkUp(host: LabHost, ifname: string): Promise<void> {
  await runOk(["ip", "-n", host.netns, "link", "set", ifname, "up"]);
}

export async function addDefaultRoute(host: LabHost, gateway: string): Promise<void> {
  await runOk(["ip", "-n", host.netns, "route", "add", "default", "via", gateway]);
}

/** /proc/sys/net follows the netns of the process that opens it, so write it from inside the host. */
export async function setSysctl(host: LabHost, key: string, value: string): Promise<void> {
  if (!/^[a-z0-9_.-]+$/.test(key)) throw new Error(`lab: bad sysctl key ${key}`);
  await execOk(host, ["tee", `/proc/sys/${key.replaceAll(".", "/")}`], { input: `${value}\n`, cwd: "/" });
}

export interface NatRouterRules {
  /** Public interface, e.g. `eth0`. */
  wanIf: string;
  /** LAN bridge on the router, e.g. `lan-a`. */
  lanIf: string;
  /** LAN subnet, e.g. `10.10.1.0/24`. */
  subnet: string;
}

/**
 * A home-router ruleset: the LAN goes out of `wanIf` with port-preserving masquerade (nf_nat keeps the
 * source port whenever that tuple is free), only replies come back, and nothing unsolicited from the WAN
 * is forwarded or delivered to the router itself (except echo requests).
 *
 * Dropping unsolicited WAN packets in `input` matters for hole punching: a peer's first packet to our
 * public address:port arrives before our own host has sent anything. Accepted, it would be confirmed as
 * a conntrack entry of the router itself (answered with port-unreachable), and that entry would occupy
 * the tuple our host's outbound flow needs, so masquerade would pick another port. Dropped, the
 * unconfirmed entry dies with the packet.
 */
export function natRouterRuleset(r: NatRouterRules): string {
  return [
    "table inet labnat {",
    "  chain input {",
    "    type filter hook input priority filter; policy accept;",
    `    iifname "${r.wanIf}" ct state established,related accept`,
    `    iifname "${r.wanIf}" icmp type echo-request accept`,
    `    iifname "${r.wanIf}" counter drop`,
    "  }",
    "  chain forward {",
    "    type filter hook forward priority filter; policy drop;",
    "    ct state established,related accept",
    `    iifname "${r.lanIf}" oifname "${r.wanIf}" accept`,
    // bridged LAN-internal frames, in case br_netfilter hands them to this hook
    `    iifname "${r.lanIf}" oifname "${r.lanIf}" accept`,
    "  }",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    oifname "${r.wanIf}" ip saddr ${r.subnet} masquerade`,
    "  }",
    "}",
    "",
  ].join("\n");
}

export async function loadNftRuleset(host: LabHost, ruleset: string): Promise<void> {
  await execOk(host, ["nft", "-f", "-"], { input: ruleset, cwd: "/" });
}

/** IPv4 helpers for the address plan and the collision check. */
export function ipToInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`lab: bad IPv4 address ${ip}`);
  }
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

export function cidrRange(cidr: string): { first: number; last: number } {
  const [ip = "", bitsText = "32"] = cidr.split("/");
  const bits = Number(bitsText);
  const size = 2 ** (32 - bits);
  const first = Math.floor(ipToInt(ip) / size) * size;
  return { first, last: first + size - 1 };
}

export function cidrsOverlap(a: string, b: string): boolean {
  const ra = cidrRange(a);
  const rb = cidrRange(b);
  return ra.first <= rb.last && rb.first <= ra.last;
}

/** IPv4 networks configured in the VM's root netns (read only, via netlink). */
export async function rootNetworks(): Promise<string[]> {
  const { stdout } = await runOk(["ip", "-4", "-o", "addr", "show"]);
  return [...stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+\/\d+)/g)].map((m) => m[1] ?? "").filter(Boolean);
}

/** The lab never routes to the VM, but overlapping subnets would still confuse anyone reading addresses. */
export async function assertSubnetsFreeOnVm(subnets: readonly string[]): Promise<void> {
  for (const net of await rootNetworks()) {
    const clash = subnets.find((subnet) => cidrsOverlap(subnet, net));
    if (clash)
      throw new Error(`lab: segment ${clash} overlaps ${net} in the VM's root netns; pick other subnets`);
  }
}

/**
 * With br_netfilter loaded (it is on this kernel), bridged IPv4 frames go through the netfilter forward
 * hook, so a router's `policy drop` would cut a1 off from a2. The switch is per netns; turn it off.
 * Best effort: without br_netfilter the files do not exist, and the ruleset also accepts LAN-to-same-LAN.
 */
export async function disableBridgeNetfilter(host: LabHost): Promise<void> {
  for (const family of ["iptables", "ip6tables", "arptables"]) {
    await setSysctl(host, `net.bridge.bridge-nf-call-${family}`, "0").catch(() => {});
  }
}

/** A stable, locally administered unicast MAC derived from the bridge's namespace and name. */
function bridgeMac(netns: string, bridge: string): string {
  const digest = createHash("sha256").update(`${netns}/${bridge}`).digest();
  const bytes = [0x02, digest[0] ?? 0, digest[1] ?? 0, digest[2] ?? 0, digest[3] ?? 0, digest[4] ?? 0];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}
