// The lab's segments, routers and addresses. Pure data: the topology module turns it into namespaces and links.
//
//   public  198.18.0.0/24  (RFC 2544 benchmark range)  bridge br0 in the switch host
//   nat-a   10.10.1.0/24   behind router nata, masqueraded to its public address 198.18.0.254
//   nat-b   10.10.2.0/24   behind router natb, masqueraded to its public address 198.18.0.253
//
// Two routers (two sites): NAT-A and NAT-B look like two different sites to the control plane, and a host
// in NAT-A reaches a host in NAT-B only through NAT-B's public address, across both NATs.
import type { TopologyHost } from "./topology.js";

export type SegmentName = "public" | "nat-a" | "nat-b";
/** The segments behind a NAT router. */
export type LanSegmentName = Exclude<SegmentName, "public">;

export interface Segment {
  readonly name: SegmentName;
  /** e.g. `10.10.1.0/24`. */
  readonly subnet: string;
  readonly prefixLength: 24;
  /** The router's address on the segment, the default route of its hosts; null on the public segment. */
  readonly gateway: string | null;
  /** Where the segment's bridge lives: the switch host (public) or the segment's router (LANs). */
  readonly bridgeOn: "switch" | "router";
  /** Short name of the router serving the segment (`nata`, `natb`); null on the public segment. */
  readonly router: string | null;
  readonly bridge: string;
  /** Bridge port names are `<portPrefix><host>` (15 characters at most). */
  readonly portPrefix: string;
  /** The public address the segment's traffic appears from; null on the public segment. */
  readonly natAddress: string | null;
  /** Port-preserving masquerade to the router's only public address (natAddress); null on public. */
  readonly natMode: "masquerade" | null;
}

export const SEGMENT_NAMES: readonly SegmentName[] = ["public", "nat-a", "nat-b"];
export const LAN_SEGMENT_NAMES: readonly LanSegmentName[] = ["nat-a", "nat-b"];

/** One NAT router per LAN, each with one public address on the public segment. */
export interface RouterPlan {
  /** Short name, e.g. `nata` (the lab host is `<prefix>-nata`). */
  readonly name: string;
  readonly segment: LanSegmentName;
  readonly publicIp: string;
}

export const ROUTER_PLANS: Readonly<Record<LanSegmentName, RouterPlan>> = {
  "nat-a": { name: "nata", segment: "nat-a", publicIp: "198.18.0.254" },
  "nat-b": { name: "natb", segment: "nat-b", publicIp: "198.18.0.253" },
};

export const ROUTER_NAMES: readonly string[] = LAN_SEGMENT_NAMES.map((s) => ROUTER_PLANS[s].name);
/** NAT-A's public address first, then NAT-B's. */
export const ROUTER_PUBLIC_IPS = [ROUTER_PLANS["nat-a"].publicIp, ROUTER_PLANS["nat-b"].publicIp] as const;

export const SEGMENTS: Readonly<Record<SegmentName, Segment>> = {
  public: {
    name: "public",
    subnet: "198.18.0.0/24",
    prefixLength: 24,
    gateway: null,
    bridgeOn: "switch",
    router: null,
    bridge: "br0",
    portPrefix: "p-",
    natAddress: null,
    natMode: null,
  },
  "nat-a": {
    name: "nat-a",
    subnet: "10.10.1.0/24",
    prefixLength: 24,
    gateway: "10.10.1.1",
    bridgeOn: "router",
    router: ROUTER_PLANS["nat-a"].name,
    bridge: "lan-a",
    portPrefix: "v-",
    natAddress: ROUTER_PLANS["nat-a"].publicIp,
    natMode: "masquerade",
  },
  "nat-b": {
    name: "nat-b",
    subnet: "10.10.2.0/24",
    prefixLength: 24,
    gateway: "10.10.2.1",
    bridgeOn: "router",
    router: ROUTER_PLANS["nat-b"].name,
    bridge: "lan-b",
    portPrefix: "v-",
    natAddress: ROUTER_PLANS["nat-b"].publicIp,
    natMode: "masquerade",
  },
};

export interface HostSpec {
  /** Short name, also the hostname inside: [a-z0-9-], at most 12 characters (bridge port names). */
  name: string;
  segment: SegmentName;
  /** Fixed address (default: the lowest free one from .10 up). */
  ip?: string;
}

export const DEFAULT_HOSTS: readonly HostSpec[] = [
  { name: "nodeward", segment: "public" },
  { name: "pub1", segment: "public" },
  { name: "a1", segment: "nat-a" },
  { name: "a2", segment: "nat-a" },
  { name: "b1", segment: "nat-b" },
];

/** Names the topology uses for its own infrastructure hosts. */
export const SWITCH_NAME = "pubsw";

const SHORT_NAME = /^[a-z0-9][a-z0-9-]{0,11}$/;
const FIRST_HOST_INDEX = 10;
const LAST_HOST_INDEX = 249;

export function assertShortName(name: string): void {
  if (!SHORT_NAME.test(name))
    throw new Error(`lab: bad host name ${JSON.stringify(name)} (want [a-z0-9-], ≤ 12)`);
  if (name === SWITCH_NAME || ROUTER_NAMES.includes(name))
    throw new Error(`lab: ${name} is reserved for the topology`);
}

function networkBase(segment: Segment): string {
  return segment.subnet.split(".").slice(0, 3).join(".");
}

/** Picks the host's address on its segment: the requested one, or the lowest free from .10 up. */
export function allocateAddress(
  segment: Segment,
  taken: readonly TopologyHost[],
  requested?: string,
): string {
  const base = networkBase(segment);
  const used = new Set(taken.filter((h) => h.segment === segment.name).map((h) => h.ip));
  if (requested) {
    const last = Number(requested.split(".")[3]);
    const valid = requested.startsWith(`${base}.`) && last >= 2 && last <= LAST_HOST_INDEX;
    if (!valid)
      throw new Error(
        `lab: ${requested} is not a host address of ${segment.subnet} (.2-.${LAST_HOST_INDEX})`,
      );
    if (used.has(requested)) throw new Error(`lab: ${requested} is already used on ${segment.name}`);
    return requested;
  }
  for (let i = FIRST_HOST_INDEX; i <= LAST_HOST_INDEX; i++) {
    if (!used.has(`${base}.${i}`)) return `${base}.${i}`;
  }
  throw new Error(`lab: no free address left on ${segment.name}`);
}
