import { readFile } from "node:fs/promises";
import * as z from "zod";
import { writeFileAtomic } from "../../common/atomic-file.js";
import type { Paths } from "./paths.js";
import type { WgPeer } from "./wireguard-plan.js";

const StoredPeers = z.object({
  iface: z.string(),
  fullState: z.boolean(),
  appliedAt: z.string(),
  peers: z.array(
    z.object({
      publicKey: z.string(),
      endpoint: z.string(),
      allowedIps: z.array(z.string()),
      persistentKeepalive: z.number(),
    }),
  ),
});
export type StoredPeers = z.infer<typeof StoredPeers>;

/**
 * The last desired peer set, on disk (/var/lib/runos/wireguard/<iface>-peers.json): a restarted
 * agent re-applies it at once, without waiting for the control plane.
 */
export interface PeerStore {
  load(iface: string): Promise<StoredPeers | undefined>;
  save(iface: string, peers: WgPeer[], fullState: boolean): Promise<void>;
}

export function createPeerStore(paths: Paths): PeerStore {
  const file = (iface: string) => paths.onRoot(`/var/lib/runos/wireguard/${iface}-peers.json`);
  return {
    async load(iface) {
      try {
        const parsed = StoredPeers.safeParse(JSON.parse(await readFile(file(iface), "utf8")));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },
    async save(iface, peers, fullState) {
      const record: StoredPeers = { iface, fullState, appliedAt: new Date().toISOString(), peers };
      await writeFileAtomic(file(iface), `${JSON.stringify(record, null, 2)}\n`, {
        mode: 0o600,
        dirMode: 0o700,
      });
    },
  };
}

export function peersByKey(peers: WgPeer[] | undefined): Map<string, WgPeer> {
  return new Map((peers ?? []).map((p) => [p.publicKey, p]));
}
