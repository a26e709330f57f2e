import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../../common/atomic-file.js";

/** What the running daemon tells `runos status` (in /run/runos/state.json; gone after a reboot). */
export interface DaemonState {
  pid: number;
  version: string;
  startedAt: string;
  connected: boolean;
  sessionSince?: string;
  lastHeartbeatAt?: string;
  lastError?: string;
  reconnects: number;
  nextRetryAt?: string;
  nodewardCapabilities: string[];
  certificateSerial?: string;
  certificateRenewAt?: string;
}

export class DaemonStateFile {
  private lastWrite = 0;
  constructor(
    private readonly path: string,
    readonly state: DaemonState,
  ) {}

  /** Writes now, or at most every `minIntervalMs` for frequent updates such as heartbeats. */
  async update(patch: Partial<DaemonState>, minIntervalMs = 0): Promise<void> {
    Object.assign(this.state, patch);
    if (Date.now() - this.lastWrite < minIntervalMs) return;
    this.lastWrite = Date.now();
    await writeFileAtomic(this.path, `${JSON.stringify(this.state, null, 2)}\n`, { mode: 0o644 }).catch(
      () => {},
    );
  }
}

export async function readDaemonState(path: string): Promise<DaemonState | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as DaemonState;
  } catch {
    return undefined;
  }
}
