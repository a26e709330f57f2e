// A NAT router ("a site"): one lab host with one public address on the switch, one LAN bridge behind it,
// and the home-router ruleset (port-preserving masquerade, nothing unsolicited comes in).
import { type LanSegmentName, ROUTER_PLANS, SEGMENTS } from "./address-plan.js";
import {
  addAddress,
  addBridge,
  disableBridgeNetfilter,
  loadNftRuleset,
  natRouterRuleset,
  plugIntoBridge,
  setLinkUp,
  setSysctl,
} from "./net.js";
import type { LabHost } from "./paths.js";

export interface Router {
  /** Short name, e.g. `nata`; also its hostname. */
  readonly name: string;
  readonly host: LabHost;
  /** The LAN it serves. */
  readonly segment: LanSegmentName;
  /** Its only public address: what its LAN's traffic appears to come from. */
  readonly publicIp: string;
  readonly wanIf: "eth0";
  /** Its port on the public switch's bridge. */
  readonly wanPort: string;
  /** The LAN bridge, e.g. `lan-a`. */
  readonly lanIf: string;
  /** Its address on the LAN: the LAN hosts' default route. */
  readonly lanIp: string;
}

/** Wires a fresh lab host as the router of `segment`; the public switch's bridge must exist. */
export async function buildRouter(
  switchHost: LabHost,
  routerHost: LabHost,
  segment: LanSegmentName,
): Promise<Router> {
  const plan = ROUTER_PLANS[segment];
  const pub = SEGMENTS.public;
  const lan = SEGMENTS[segment];
  if (!lan.gateway) throw new Error(`lab: segment ${segment} has no gateway`);
  const router: Router = {
    name: plan.name,
    host: routerHost,
    segment,
    publicIp: plan.publicIp,
    wanIf: "eth0",
    wanPort: `${pub.portPrefix}${plan.name}`,
    lanIf: lan.bridge,
    lanIp: lan.gateway,
  };
  await disableBridgeNetfilter(routerHost);
  await plugIntoBridge(switchHost, pub.bridge, router.wanPort, routerHost, router.wanIf);
  await addAddress(routerHost, router.wanIf, `${router.publicIp}/${pub.prefixLength}`);
  await setLinkUp(routerHost, router.wanIf);
  await addBridge(routerHost, router.lanIf);
  await addAddress(routerHost, router.lanIf, `${router.lanIp}/${lan.prefixLength}`);
  await setSysctl(routerHost, "net.ipv4.ip_forward", "1");
  await loadNftRuleset(
    routerHost,
    natRouterRuleset({ wanIf: router.wanIf, lanIf: router.lanIf, subnet: lan.subnet }),
  );
  return router;
}
