// The lab network: a public segment (switch host with a bridge), two NAT routers (sites) with one LAN
// each, and lab hosts on each segment. Everything lives in namespaces; nothing touches the VM's network.
import { existsSync, rmSync } from "node:fs";
import {
  allocateAddress,
  assertShortName,
  DEFAULT_HOSTS,
  type HostSpec,
  LAN_SEGMENT_NAMES,
  type LanSegmentName,
  ROUTER_NAMES,
  ROUTER_PLANS,
  SEGMENT_NAMES,
  SEGMENTS,
  type Segment,
  type SegmentName,
  SWITCH_NAME,
} from "./address-plan.js";
import { downHost, execOk, upHost } from "./host.js";
import {
  addAddress,
  addBridge,
  addDefaultRoute,
  assertSubnetsFreeOnVm,
  disableBridgeNetfilter,
  plugIntoBridge,
  setLinkUp,
  unplugFromBridge,
} from "./net.js";
import { isValidHostName, type LabHost, labHost } from "./paths.js";
import { buildRouter, type Router } from "./router.js";
import { releaseStateDirIfEmpty } from "./state-dir.js";
import { DEFAULT_PREFIX, saveTopology, topologyStateFile } from "./topology-state.js";

export type { HostSpec, LanSegmentName, Segment, SegmentName } from "./address-plan.js";
export type { Router } from "./router.js";
export { DEFAULT_PREFIX, loadTopology, saveTopology } from "./topology-state.js";

export interface TopologyHost {
  /** Short name, also the hostname inside, e.g. `a1`. */
  readonly name: string;
  /** The lab host (`<prefix>-<name>`) to pass to exec/spawn. */
  readonly host: LabHost;
  readonly segment: SegmentName;
  /** Underlay address on `eth0`. */
  readonly ip: string;
  readonly cidr: string;
  /** Default route (the router), or null on the public segment (no default route: the "internet" is one L2). */
  readonly gateway: string | null;
  /** The address other hosts see this host's outbound traffic come from (its own ip when public). */
  readonly publicIp: string;
  readonly ifname: "eth0";
  /** Its bridge port, in the switch (public) or the router (LANs). */
  readonly port: string;
}

export interface Topology {
  readonly prefix: string;
  readonly segments: Readonly<Record<SegmentName, Segment>>;
  readonly switchHost: LabHost;
  /** One NAT router per LAN segment (`nata`, `natb`); see topologyRouter(). */
  readonly routers: Readonly<Record<LanSegmentName, Router>>;
  /** By short name; mutated by addTopologyHost/removeTopologyHost. */
  readonly hosts: Record<string, TopologyHost>;
}

export interface TopologyOptions {
  /** Lab host names are `<prefix>-<name>`; one prefix per concurrent lab (default `lab`). */
  prefix?: string;
  hosts?: readonly HostSpec[];
  /** Aborting makes createTopology roll back and reject (Ctrl-C during `up`). */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** Builds the whole topology. On any failure or abort, everything it created is removed again. */
export async function createTopology(opts: TopologyOptions = {}): Promise<Topology> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const log = opts.log ?? (() => {});
  const specs = opts.hosts ?? DEFAULT_HOSTS;
  for (const spec of specs) assertShortName(spec.name);
  await assertSubnetsFreeOnVm(SEGMENT_NAMES.map((name) => SEGMENTS[name].subnet));
  if (existsSync(topologyStateFile(prefix)))
    throw new Error(`lab: a topology with prefix ${prefix} is already up`);

  const created: LabHost[] = [];
  const up = async (name: string) => {
    opts.signal?.throwIfAborted();
    const host = await upHost(labName(prefix, name), { hostname: name });
    created.push(host);
    return host;
  };
  try {
    const switchUp = up(SWITCH_NAME);
    const routerUps = LAN_SEGMENT_NAMES.map(async (segment) => ({
      segment,
      host: await up(ROUTER_PLANS[segment].name),
    }));
    await allSettledOrThrow<unknown>([switchUp, ...routerUps]);
    const switchHost = await switchUp;
    log(`lab: switch ${switchHost.name} and routers ${ROUTER_NAMES.join(", ")} are up`);
    await buildSwitch(switchHost);
    const built = await allSettledOrThrow(
      routerUps.map(async (pending) => {
        const { segment, host } = await pending;
        return buildRouter(switchHost, host, segment);
      }),
    );
    const routers = Object.fromEntries(built.map((r) => [r.segment, r])) as Record<LanSegmentName, Router>;
    const topo: Topology = { prefix, segments: SEGMENTS, switchHost, routers, hosts: {} };
    const planned = planHosts(specs, prefix);
    const hosts = await allSettledOrThrow(
      planned.map(async (plan) => {
        const host = await up(plan.name);
        opts.signal?.throwIfAborted();
        await attachHost(topo, plan, host);
        return plan;
      }),
    );
    for (const h of hosts) topo.hosts[h.name] = h;
    await writePublicHostsFile(topo, Object.values(topo.hosts));
    opts.signal?.throwIfAborted();
    saveTopology(topo);
    log(`lab: ${Object.keys(topo.hosts).length} hosts up (${prefix})`);
    return topo;
  } catch (error) {
    log(`lab: rolling back ${created.length} hosts: ${error instanceof Error ? error.message : error}`);
    await Promise.allSettled(created.map((h) => downHost(h)));
    await releaseStateDirIfEmpty().catch(() => false);
    throw error;
  }
}

/** Like Promise.all, but waits for every promise first, so a rollback never races a host still being made. */
async function allSettledOrThrow<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

function labName(prefix: string, name: string): string {
  const full = `${prefix}-${name}`;
  if (!isValidHostName(full)) throw new Error(`lab: ${full} is not a valid lab host name (prefix too long?)`);
  return full;
}

function planHosts(specs: readonly HostSpec[], prefix: string): TopologyHost[] {
  const planned: TopologyHost[] = [];
  for (const spec of specs) {
    if (planned.some((h) => h.name === spec.name)) throw new Error(`lab: host ${spec.name} listed twice`);
    planned.push(planHost(spec, prefix, planned));
  }
  return planned;
}

function planHost(spec: HostSpec, prefix: string, taken: readonly TopologyHost[]): TopologyHost {
  assertShortName(spec.name);
  const segment = SEGMENTS[spec.segment];
  const ip = allocateAddress(segment, taken, spec.ip);
  return {
    name: spec.name,
    host: labHost(labName(prefix, spec.name)),
    segment: segment.name,
    ip,
    cidr: `${ip}/${segment.prefixLength}`,
    gateway: segment.gateway,
    publicIp: segment.natAddress ?? ip,
    ifname: "eth0",
    port: `${segment.portPrefix}${spec.name}`,
  };
}

/** The public segment: a plain bridge in the switch host. */
async function buildSwitch(switchHost: LabHost): Promise<void> {
  await disableBridgeNetfilter(switchHost);
  await addBridge(switchHost, SEGMENTS.public.bridge);
}

function bridgeHostOf(topo: Topology, segment: Segment): LabHost {
  return segment.bridgeOn === "switch" ? topo.switchHost : topologyRouter(topo, segment.name).host;
}

async function attachHost(topo: Topology, plan: TopologyHost, host: LabHost): Promise<void> {
  const segment = SEGMENTS[plan.segment];
  await plugIntoBridge(bridgeHostOf(topo, segment), segment.bridge, plan.port, host, plan.ifname);
  await addAddress(host, plan.ifname, plan.cidr);
  await setLinkUp(host, plan.ifname);
  if (plan.gateway) await addDefaultRoute(host, plan.gateway);
}

/** Each host's private /etc/hosts (overlay) names the public hosts, so `nodeward` resolves everywhere. */
async function writePublicHostsFile(topo: Topology, targets: readonly TopologyHost[]): Promise<void> {
  const lines = Object.values(topo.hosts)
    .filter((h) => h.segment === "public")
    .map((h) => `${h.ip}\t${h.name}\n`)
    .join("");
  if (!lines) return;
  await Promise.all(
    targets.map((t) =>
      execOk(t.host, ["tee", "-a", "/etc/hosts"], {
        input: `# runos lab\n${lines}`,
        cwd: "/",
        timeoutMs: 10_000,
      }),
    ),
  );
}

/** Adds one more host to a segment of a running topology (e.g. `a3` on nat-a, `pub2` on public). */
export async function addTopologyHost(topo: Topology, spec: HostSpec): Promise<TopologyHost> {
  if (topo.hosts[spec.name]) throw new Error(`lab: host ${spec.name} already exists`);
  const plan = planHost(spec, topo.prefix, Object.values(topo.hosts));
  topo.hosts[plan.name] = plan; // reserves name and address against a concurrent add
  try {
    const host = await upHost(plan.host.name, { hostname: plan.name });
    try {
      await attachHost(topo, plan, host);
      await writePublicHostsFile(topo, [plan]);
    } catch (error) {
      await downHost(host).catch(() => {});
      throw error;
    }
  } catch (error) {
    delete topo.hosts[plan.name];
    throw error;
  }
  saveTopology(topo);
  return plan;
}

/** Removes a host from a running topology: its processes, namespaces, bridge port and directory. */
export async function removeTopologyHost(topo: Topology, name: string): Promise<void> {
  const entry = topo.hosts[name];
  if (!entry) throw new Error(`lab: no host ${name} in topology ${topo.prefix}`);
  await downHost(entry.host);
  // Deleting the netns deletes the veth pair; this only catches a port left by a half-failed add.
  const bridgeHost = bridgeHostOf(topo, SEGMENTS[entry.segment]);
  await unplugFromBridge(bridgeHost, entry.port).catch(() => {});
  delete topo.hosts[name];
  saveTopology(topo);
}

/** Tears the whole topology down (hosts, routers, switch, state file); releases /run/labhost if empty. */
export async function destroyTopology(topo: Topology): Promise<void> {
  const all = [
    ...Object.values(topo.hosts).map((h) => h.host),
    ...topologyRouters(topo).map((r) => r.host),
    topo.switchHost,
  ];
  const results = await Promise.allSettled(all.map((h) => downHost(h)));
  rmSync(topologyStateFile(topo.prefix), { force: true });
  await releaseStateDirIfEmpty();
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length > 0)
    throw new AggregateError(
      failed.map((r) => r.reason),
      "lab: teardown left hosts behind",
    );
}

export function topologyHost(topo: Topology, name: string): TopologyHost {
  const host = topo.hosts[name];
  if (!host) throw new Error(`lab: no host ${name} in topology ${topo.prefix}`);
  return host;
}

/** The router of a LAN segment (`nat-a`) or by short name (`nata`). */
export function topologyRouter(topo: Topology, segmentOrName: string): Router {
  const router = topologyRouters(topo).find((r) => r.segment === segmentOrName || r.name === segmentOrName);
  if (!router) throw new Error(`lab: no router ${segmentOrName} in topology ${topo.prefix}`);
  return router;
}

export function topologyRouters(topo: Topology): Router[] {
  return LAN_SEGMENT_NAMES.map((s) => topo.routers[s]);
}
