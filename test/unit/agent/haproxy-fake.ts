import assert from "node:assert/strict";
import type { DesiredEndpoints, HaproxyApplyResult, HaproxyPort } from "../../../src/agent/host/haproxy.js";
import { type ApiEndpoint, endpointAddress, serverName } from "../../../src/agent/host/haproxy-config.js";
import type { LiveServer } from "../../../src/agent/host/haproxy-socket.js";
import { RunosError } from "../../../src/common/errors.js";

/**
 * An in-memory HAProxy: applies like the real port (unchanged when the same servers are applied to a
 * running instance, started when it is not running), counts reloads, fails on demand.
 */
export class FakeHaproxy implements HaproxyPort {
  readonly configPath = "/etc/haproxy/haproxy.cfg";
  servers: ApiEndpoint[] | undefined;
  isRunning = false;
  reloads = 0;
  starts = 0;
  desired: DesiredEndpoints | undefined;
  /** The next n applies throw like a refused reload. */
  failures = 0;
  readonly applied: string[][] = [];

  async apply(servers: readonly ApiEndpoint[]): Promise<HaproxyApplyResult> {
    assert.ok(servers.length > 0, "the port is never asked to apply an empty list");
    if (this.failures > 0) {
      this.failures -= 1;
      throw new RunosError("NA_EXEC_FAILED", "HAProxy refused to reload; the previous workers keep serving");
    }
    const same = JSON.stringify(this.servers) === JSON.stringify(servers);
    const result = (action: HaproxyApplyResult["action"]) => ({
      action,
      runner: "agent" as const,
      durationMs: 1,
    });
    if (same && this.isRunning) return result("unchanged");
    this.servers = [...servers];
    this.applied.push(servers.map(endpointAddress));
    if (this.isRunning) {
      this.reloads += 1;
      return result("reloaded");
    }
    this.isRunning = true;
    this.starts += 1;
    return result("started");
  }

  async running(): Promise<boolean> {
    return this.isRunning;
  }

  async liveServers(): Promise<LiveServer[]> {
    if (!this.isRunning) throw new RunosError("NA_UNREACHABLE", "HAProxy socket: ENOENT");
    return (this.servers ?? []).map((s) => ({
      backend: "k8s_api_backend",
      name: serverName(s),
      address: endpointAddress(s),
      status: "UP",
      checkStatus: "L7OK",
      lastChangeSeconds: 5,
      currentSessions: 0,
      totalSessions: 3,
    }));
  }

  async readConfig(): Promise<string | undefined> {
    if (!this.servers) return undefined;
    const lines = this.servers.map((s) => `    server ${serverName(s)} ${endpointAddress(s)}`);
    return ["backend k8s_api_backend", ...lines, ""].join("\n");
  }

  async loadDesired(): Promise<DesiredEndpoints | undefined> {
    return this.desired ? { ...this.desired } : undefined;
  }

  async saveDesired(desired: DesiredEndpoints): Promise<void> {
    this.desired = { ...desired };
  }

  expectReloads(n: number): void {
    assert.equal(this.reloads, n, `expected ${n} reload(s), saw ${this.reloads}`);
  }
}
