import { generateKeyPairSync } from "node:crypto";
import * as z from "zod";
import { RunosError } from "../../common/errors.js";
import type { Repository, UserRecord } from "../store/repository.js";
import { allocateUserAddress, clusterSubnet } from "./ipam.js";
import { wg1Port } from "./listen-port.js";
import type { Overlay } from "./overlay.js";
import { addressesOf, userGateway } from "./peers.js";

const wgKey = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$/;

export const UserRequest = z.object({
  name: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "lower-case letters, digits, '.', '_' and '-', at most 63"),
  cluster: z.string().trim().min(1),
  aid: z.string().trim().min(1).optional(),
  /** Bring your own key; without it nodeward makes one and shows the private half once. */
  publicKey: z.string().trim().regex(wgKey, "not a WireGuard public key").optional(),
});
export type UserRequest = z.infer<typeof UserRequest>;

export interface UserGrant {
  name: string;
  aid: string;
  cluster: string;
  ip: string;
  publicKey: string;
  gateway: { nid: string; hostname: string; endpoint: string };
  /** A complete wg-quick configuration; carries the private key only when nodeward made it. */
  config: string;
}

/** X25519 key pair in WireGuard's base64 form. */
export function generateWireguardKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const b64 = (jwkValue: string | undefined) => Buffer.from(jwkValue ?? "", "base64url").toString("base64");
  return {
    privateKey: b64(privateKey.export({ format: "jwk" }).d),
    publicKey: b64(publicKey.export({ format: "jwk" }).x),
  };
}

/** Resolves a cluster by name; the account may be left out when only one account has that name. */
async function resolveCluster(
  store: Repository,
  cluster: string,
  aid: string | undefined,
): Promise<{ aid: string; idx: number }> {
  const nodes = (await store.listNodes()).filter((n) => n.cluster === cluster && (!aid || n.aid === aid));
  const accounts = [...new Set(nodes.map((n) => n.aid))];
  if (accounts.length === 0)
    throw new RunosError("NA_NOT_FOUND", `cluster ${cluster} has no nodes${aid ? ` in account ${aid}` : ""}`);
  if (accounts.length > 1)
    throw new RunosError("NA_USAGE", `cluster name ${cluster} exists in several accounts; pass --aid`);
  const found = await store.getCluster(accounts[0] as string, cluster);
  if (found?.idx === null || found?.idx === undefined)
    throw new RunosError("NA_NOT_FOUND", `cluster ${cluster} has no overlay yet`);
  return { aid: found.aid, idx: found.idx };
}

/**
 * Adds a user device to a cluster's wg1: a 172.24.200.0/21 address, its peer pushed to every
 * node's wg1, its address routed through the gateway node's wg0 entry everywhere, and a client
 * configuration pointing at the gateway.
 */
export async function addUser(
  deps: { store: Repository; overlay: Overlay; now: number },
  request: UserRequest,
): Promise<UserGrant> {
  const { aid, idx } = await resolveCluster(deps.store, request.cluster, request.aid);
  const keys = request.publicKey ? undefined : generateWireguardKeyPair();
  const publicKey = request.publicKey ?? (keys?.publicKey as string);
  const inputs = await deps.overlay.inputs({ aid, cluster: request.cluster });
  const gateway = userGateway(inputs);
  if (!gateway)
    throw new RunosError("NA_CONFLICT", `cluster ${request.cluster} has no node with the VPN installed yet`);
  const user: UserRecord = await deps.store.transaction(async (tx) => {
    const existing = (await tx.listUsers(aid, request.cluster)).find((u) => u.name === request.name);
    if (existing)
      throw new RunosError(
        "NA_CONFLICT",
        `user ${request.name} already exists in cluster ${request.cluster}`,
      );
    const record = {
      aid,
      cluster: request.cluster,
      name: request.name,
      ip: allocateUserAddress(await tx.usedUserIps()),
      publicKey,
      createdAt: deps.now,
    };
    await tx.insertUser(record);
    return record;
  });
  deps.overlay.changed({ aid, cluster: request.cluster });

  const addresses = addressesOf(gateway, inputs.observed(gateway));
  const host = addresses.observed || addresses.reported;
  const endpoint = host.includes(":") ? `[${host}]:${wg1Port}` : `${host}:${wg1Port}`;
  const config = [
    "[Interface]",
    keys ? `PrivateKey = ${keys.privateKey}` : "# PrivateKey = <the private key of the public key you gave>",
    `Address = ${user.ip}/32`,
    "MTU = 1420",
    "",
    "[Peer]",
    `# gateway: ${gateway.hostname} (${gateway.nid})`,
    `PublicKey = ${gateway.vpnPubKey}`,
    `Endpoint = ${endpoint}`,
    `AllowedIPs = ${clusterSubnet(idx)}`,
    "PersistentKeepalive = 25",
    "",
  ].join("\n");
  return {
    name: user.name,
    aid,
    cluster: user.cluster,
    ip: user.ip,
    publicKey,
    gateway: { nid: gateway.nid, hostname: gateway.hostname, endpoint },
    config,
  };
}

export async function removeUser(
  deps: { store: Repository; overlay: Overlay },
  request: { name: string; cluster: string; aid?: string },
): Promise<{ removed: boolean }> {
  const { aid } = await resolveCluster(deps.store, request.cluster, request.aid);
  const removed = await deps.store.deleteUser(aid, request.cluster, request.name);
  if (!removed) throw new RunosError("NA_NOT_FOUND", `no user ${request.name} in cluster ${request.cluster}`);
  deps.overlay.changed({ aid, cluster: request.cluster });
  return { removed };
}

export async function listUsers(store: Repository, cluster: string, aid?: string) {
  const resolved = await resolveCluster(store, cluster, aid);
  return (await store.listUsers(resolved.aid, cluster)).map((u) => ({
    name: u.name,
    cluster: u.cluster,
    aid: u.aid,
    ip: u.ip,
    publicKey: u.publicKey,
    createdAt: new Date(u.createdAt).toISOString(),
  }));
}
