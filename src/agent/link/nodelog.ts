import type { Logger } from "../../common/log.js";
import type { L2Client } from "./clients.js";

export interface Nodelog {
  type: string;
  /** 1 failure, 2 warning, 3 info (the original's scale). */
  severity: 1 | 2 | 3;
  message: string;
  code?: string;
  cause?: string;
  remedy?: string;
}

/** Node logs are best effort: a failure is logged locally and never fails the caller. */
export async function sendNodelog(client: L2Client, entry: Nodelog, log: Logger): Promise<boolean> {
  try {
    await client.addNodelog({ ...entry, docsUrl: "" }, { deadlineMs: 30_000 });
    return true;
  } catch (err) {
    log.warn({ err: (err as Error).message, type: entry.type }, "node log not delivered");
    return false;
  }
}
