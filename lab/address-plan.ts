// The lab's segments and addresses. Pure data: the topology module turns it into namespaces and links.
//
//   public  198.18.0.0/24  (RFC 2544 benchmark range)  bridge br0 in the switch host
//   nat-a   10.10.1.0/24   behind natgw, masqueraded to natgw's primary public address 198.18.0.254
//   nat-b   10.10.2.0/24   behind natgw, snat'ed to natgw's second public address 198.18.0.253
//
// Two public addresses make NAT-A and NAT-B look like two different sites to the control plane.
import type { TopologyHost } from "./topology.js";

export type SegmentName = "public" | "nat-a" | "nat-b";

export interface Segment {
  readonly name: SegmentName;
  /** e.g. `10.10.1.0/24`. */
  readonly subnet: string;
  readonly prefixLength: 24;
  /** The router's address on the segment, the default route of its hosts; null on the public segment. */
  readonly gateway: string | null;
  /** Where the segment's bridge lives: the switch host (public) or the router (LANs). */
  readonly bridgeOn: "switch" | "router";
  readonly bridge: string;
  /** Bridge port names are `<portPrefix><host>` (15 characters at most). */
  readonly portPrefix: string;
  /** The public address the segment's traffic appears from; null on the public segment. */
  readonly natAddress: string | null;
  /** `masquerade` picks the router's primary public address; `snat` pins natAddress. */
  readonly natMode: "masquerade" | "snat" | null;
}

export const SEGMENT_NAMES: readonly SegmentName[] = ["public", "nat-a", "nat-b"];

export const ROUTER_PUBLIC_IPS = ["198.18.0.254", "198.18.0.253"] as const;

export const SEGMENTS: Readonly<Record<SegmentName, Segment>> = {
  public: {
    name: "public",
    subnet: "198.18.0.0/24",
    prefixLength: 24,
    gateway: null,
    bridgeOn: "switch",
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
    bridge: "lan-a",
    portPrefix: "v-",
    natAddress: ROUTER_PUBLIC_IPS[0],
    natMode: "masquerade",
  },
  "nat-b": {
    name: "nat-b",
    subnet: "10.10.2.0/24",
    prefixLength: 24,
    gateway: "10.10.2.1",
    bridgeOn: "router",
    bridge: "lan-b",
    portPrefix: "v-",
    natAddress: ROUTER_PUBLIC_IPS[1],
    natMode: "snat",
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
export const ROUTER_NAME = "natgw";

const SHORT_NAME = /^[a-z0-9][a-z0-9-]{0,11}$/;
const FIRST_HOST_INDEX = 10;
const LAST_HOST_INDEX = 249;

export function assertShortName(name: string): void {
  if (!SHORT_NAME.test(name))
    throw new Error(`lab: bad host name ${JSON.stringify(name)} (want [a-z0-9-], ≤ 12)`);
  if (name === SWITCH_NAME || name === ROUTER_NAME)
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
