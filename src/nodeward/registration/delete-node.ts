import type { Clock } from "../../common/clock.js";
import { RunosError } from "../../common/errors.js";
import type { Hub } from "../hub/hub.js";
import type { Presence } from "../hub/presence.js";
import type { Repository } from "../store/repository.js";

export interface DeleteNodeDeps {
  store: Repository;
  hub: Hub;
  presence: Presence;
  clock: Clock;
}

/** Deletes a node: marked deleted, every certificate revoked, its stream ended. Idempotent. */
export async function deleteNode(
  deps: DeleteNodeDeps,
  nid: string,
): Promise<{ nid: string; revoked: number }> {
  const revoked = await deps.store.transaction(async (tx) => {
    const node = await tx.getNode(nid);
    if (!node) throw new RunosError("NA_NOT_FOUND", `node ${nid} does not exist`);
    const now = deps.clock.now();
    await tx.markNodeDeleted(nid, now);
    return tx.revokeCertificatesOf(nid, now);
  });
  deps.hub.end(nid, `node ${nid} has been deleted`);
  deps.presence.forget(nid);
  return { nid, revoked };
}
