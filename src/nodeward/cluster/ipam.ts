import { RunosError } from "../../common/errors.js";

/**
 * Overlay address plan (spec 7.3, 7.6): each cluster owns 172.24.<idx>.0/24; its nodes get
 * .1-.253 and .254 is the control-plane VIP; wg1 users get 172.24.200.0/21, so cluster indices
 * 200-207 are never handed out.
 */
export const overlayPrefix = "172.24";
export const userSubnet = "172.24.200.0/21";

export const clusterIndices: readonly number[] = Array.from({ length: 254 }, (_, i) => i + 1).filter(
  (i) => i < 200 || i > 207,
);

export function clusterSubnet(idx: number): string {
  return `${overlayPrefix}.${idx}.0/24`;
}

export function vipAddress(idx: number): string {
  return `${overlayPrefix}.${idx}.254`;
}

/** The lowest free node address of the cluster, or NA_CONFLICT when all 253 are taken. */
export function allocateNodeAddress(idx: number, used: readonly string[]): string {
  const taken = new Set(used);
  for (let host = 1; host <= 253; host += 1) {
    const ip = `${overlayPrefix}.${idx}.${host}`;
    if (!taken.has(ip)) return ip;
  }
  throw new RunosError("NA_CONFLICT", `cluster subnet ${clusterSubnet(idx)} has no free address left`);
}

/** The lowest free wg1 user address in 172.24.200.0/21 (network and broadcast excluded). */
export function allocateUserAddress(used: readonly string[]): string {
  const taken = new Set(used);
  for (let offset = 1; offset < 8 * 256 - 1; offset += 1) {
    const ip = `${overlayPrefix}.${200 + Math.floor(offset / 256)}.${offset % 256}`;
    if (offset % 256 === 0 || offset % 256 === 255 || taken.has(ip)) continue;
    return ip;
  }
  throw new RunosError("NA_CONFLICT", `user subnet ${userSubnet} has no free address left`);
}
