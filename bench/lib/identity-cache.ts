import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { AgentIdentity } from "./ipc.js";

/** How the cached fleet was enrolled; a run with other settings needs another fleet. */
export interface FleetShape {
  /** Nodes per cluster (the overlay gives a cluster one /24, so 253 at most). */
  clusterSize: number;
  /** Whether every node registered a WireGuard key at enrolment. */
  wireguard: boolean;
}

interface CacheFile extends FleetShape {
  /** sha256 of the CA certificate the identities chain to. */
  caSha256: string;
  identities: AgentIdentity[];
}

export function caFingerprint(caPem: string): string {
  return createHash("sha256").update(caPem).digest("hex");
}

/**
 * Enrolled identities from earlier runs (CSR signing is the slow part of setting up 1,000+
 * nodes). The cache and the nodeward data dir that issued it live and die together: when the
 * cache is missing or was made for another fleet shape, both are deleted and the run starts over.
 */
export class IdentityCache {
  private cache: CacheFile | undefined;

  constructor(
    private readonly file: string,
    private readonly dataDir: string,
    private readonly shape: FleetShape,
  ) {
    this.cache = this.read();
    const fits = this.cache?.clusterSize === shape.clusterSize && this.cache.wireguard === shape.wireguard;
    if (!fits) {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(file, { force: true });
      this.cache = undefined;
    }
  }

  /** Identities issued by this CA; throws if the data dir was replaced behind the cache's back. */
  identities(caPem: string): AgentIdentity[] {
    if (!this.cache) return [];
    if (this.cache.caSha256 !== caFingerprint(caPem)) {
      throw new Error(`${this.file} was not issued by ${this.dataDir}; rerun with --fresh`);
    }
    return this.cache.identities;
  }

  save(caPem: string, identities: AgentIdentity[]): void {
    this.cache = { ...this.shape, caSha256: caFingerprint(caPem), identities };
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.cache), { mode: 0o600 });
    renameSync(`${this.file}.tmp`, this.file);
  }

  private read(): CacheFile | undefined {
    if (!existsSync(this.file)) return undefined;
    try {
      return JSON.parse(readFileSync(this.file, "utf8")) as CacheFile;
    } catch {
      return undefined;
    }
  }
}
