import { RunosError } from "../../../common/errors.js";

/** Pods of the whole cluster; must not overlap 172.24.0.0/16 (the overlay) or the service range. */
export const podNetwork = "10.244.0.0/16";
export const serviceSubnet = "10.96.0.0/12";
/** wg0's MTU; pods route natively over wg0 (no second encapsulation), so they get the same. */
export const podMtu = 1420;

/**
 * A node's pod range follows from its overlay address (172.24.<c>.<h> -> 10.244.<h>.0/24): the
 * same rule on every side, so nodeward can put it in the node's wg0 peer entry (allowed IPs) before
 * Kubernetes knows the node, and no controller has to hand ranges out.
 */
export function podCidrOf(overlayIp: string): string {
  const match = /^172\.24\.(\d{1,3})\.(\d{1,3})$/.exec(overlayIp);
  const host = Number(match?.[2]);
  if (!match || !(host >= 1 && host <= 253))
    throw new RunosError(
      "NA_INVALID_INPUT",
      `"${overlayIp}" is not an overlay node address (172.24.x.1-253)`,
    );
  return `10.244.${host}.0/24`;
}
