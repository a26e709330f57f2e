import type { UserGrant } from "../cluster/users.js";
import type { ApiClient } from "./api-client.js";
import type { CommandResult } from "./io.js";

export interface UserOptions {
  cluster: string;
  aid?: string;
  publicKey?: string;
}

const query = (options: UserOptions) =>
  `cluster=${encodeURIComponent(options.cluster)}${options.aid ? `&aid=${encodeURIComponent(options.aid)}` : ""}`;

/** `nodeward user add`: prints a complete WireGuard client configuration for the device. */
export async function userAdd(name: string, options: UserOptions, api: ApiClient): Promise<CommandResult> {
  const grant = await api.post<UserGrant>("/api/users", {
    name,
    cluster: options.cluster,
    aid: options.aid,
    publicKey: options.publicKey,
  });
  return {
    data: grant,
    human: [
      `# user ${grant.name}: ${grant.ip} in cluster ${grant.cluster}, through ${grant.gateway.hostname} (${grant.gateway.endpoint})`,
      "# save as /etc/wireguard/runos.conf and run: wg-quick up runos",
      grant.config,
    ].join("\n"),
  };
}

export async function userList(options: UserOptions, api: ApiClient): Promise<CommandResult> {
  const { users } = await api.get<{ users: { name: string; ip: string; publicKey: string }[] }>(
    `/api/users?${query(options)}`,
  );
  return {
    data: users,
    human: users.length
      ? users.map((u) => `${u.name.padEnd(20)} ${u.ip.padEnd(16)} ${u.publicKey}`).join("\n")
      : "no users",
  };
}

export async function userRemove(name: string, options: UserOptions, api: ApiClient): Promise<CommandResult> {
  const result = await api.delete<{ removed: boolean }>(
    `/api/users/${encodeURIComponent(name)}?${query(options)}`,
  );
  return { data: result, human: `user ${name} removed; its peer is withdrawn from every node` };
}
