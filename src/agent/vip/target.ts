import { isIP } from "node:net";
import type { VipBinding } from "../host/vip-state.js";

/** The node's VIP configuration (`vip.interface`, `vip.address` in /etc/runos/config.yaml). */
export interface VipSettings {
  /** Where the VIP is bound: wg0 (default) or a layer-2 interface shared with the other control planes. */
  iface: string;
  /** Overrides the address the control plane names; "" = use the control plane's. */
  address: string;
}

export const overlayInterface = "wg0";

/**
 * The address to bind, in order: the configured override, the one the control plane sent
 * (runos nodeward), else `172.24.<c>.254` from this node's wg0 address (an original control
 * plane sends none). Undefined when none of them is known.
 */
export function chooseVipAddress(
  settings: VipSettings,
  fromControlPlane: string | undefined,
  wg0Cidrs: readonly string[],
): string | undefined {
  if (settings.address) return settings.address;
  if (fromControlPlane) return fromControlPlane;
  return vipFromOverlayAddress(wg0Cidrs);
}

/** Spec 7.6: the third octet of the first `172.24.X.Y` on wg0 with Y != 254. */
export function vipFromOverlayAddress(cidrs: readonly string[]): string | undefined {
  for (const cidr of cidrs) {
    const ip = cidr.split("/")[0] ?? "";
    const parts = ip.split(".");
    if (isIP(ip) !== 4 || parts[0] !== "172" || parts[1] !== "24" || parts[3] === "254") continue;
    return `172.24.${parts[2]}.254`;
  }
  return undefined;
}

export function sameBinding(a: VipBinding | null | undefined, b: VipBinding | null | undefined): boolean {
  return !!a && !!b && a.iface === b.iface && a.address === b.address;
}
