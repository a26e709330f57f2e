import { isIP } from "node:net";
import { RunosError } from "../../common/errors.js";
import type { EtcdMemberView } from "./cluster.js";
import { memberIdCandidates } from "./member-id.js";

export type RemovalTarget = { ip: string } | { id: string };

export function describeTarget(target: RemovalTarget): string {
  return "ip" in target ? `IP ${target.ip}` : `ID ${target.id}`;
}

/** The canonical text of an IP address (IPv6 compressed and lower-case), or undefined. */
export function canonicalIp(text: string): string | undefined {
  const bare = text.trim().replace(/^\[(.*)\]$/, "$1");
  const family = isIP(bare);
  if (family === 0) return undefined;
  const host = new URL(family === 6 ? `http://[${bare}]/` : `http://${bare}/`).hostname;
  return host.replace(/^\[(.*)\]$/, "$1");
}

/** The host part of a peer URL as a canonical IP, or undefined for a DNS name or a bad URL. */
export function urlIp(url: string): string | undefined {
  try {
    return canonicalIp(new URL(url).hostname);
  } catch {
    return undefined;
  }
}

/**
 * Members whose peer URLs have exactly this IP as their host (10.0.0.1 never matches 10.0.0.10;
 * `[fd00::1]` matches fd00::1 and fd00:0::1).
 */
export function membersWithIp(members: EtcdMemberView[], ip: string): EtcdMemberView[] {
  const wanted = canonicalIp(ip);
  if (!wanted) {
    throw new RunosError("NA_INVALID_INPUT", `"${ip}" is not an IP address`, {
      hint: "give the member's IPv4 or IPv6 address as it appears in its peer URL",
    });
  }
  return members.filter((m) => m.peerUrls.some((url) => urlIp(url) === wanted));
}

/**
 * The member to remove. An unknown IP is an error; an unknown id is `undefined` (already removed,
 * so a retried removal succeeds); an IP shared by two members is ambiguous.
 */
export function findTarget(members: EtcdMemberView[], target: RemovalTarget): EtcdMemberView | undefined {
  if ("ip" in target) {
    const found = membersWithIp(members, target.ip);
    if (found.length === 0) {
      throw new RunosError("NA_NOT_FOUND", `etcd member not found for IP: ${target.ip}`, {
        hint: "`runos etcd list` shows each member's peer URLs",
      });
    }
    if (found.length > 1) {
      throw new RunosError(
        "NA_CONFLICT",
        `${found.length} etcd members have peer URLs on ${target.ip} (${found.map((m) => m.id).join(", ")})`,
        { hint: "remove one by id: `runos etcd remove --id ID`" },
      );
    }
    return found[0];
  }
  const candidates = memberIdCandidates(target.id);
  const found = members.filter((m) => candidates.includes(m.id));
  if (found.length > 1) {
    throw new RunosError("NA_CONFLICT", `"${target.id}" reads as two member ids (hex and decimal)`, {
      hint: "write the id in hex with a 0x prefix",
    });
  }
  return found[0];
}
