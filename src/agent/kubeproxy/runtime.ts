import type { Logger } from "../../common/log.js";
import type { Session } from "../daemon/session.js";
import type { HaproxyPort } from "../host/haproxy.js";
import type { Paths } from "../host/paths.js";
import { loadConfig } from "../identity/config.js";
import { identityPaths, readIdentity } from "../identity/files.js";
import { createL2Client } from "../link/clients.js";
import { endpointFromConfig } from "../link/endpoints.js";
import { type Nodelog, sendNodelog } from "../link/nodelog.js";
import { startControlPlaneMonitor } from "./monitor.js";
import { startHaproxyReconciler } from "./reconciler.js";

export interface KubeApiRuntimeOptions {
  haproxy: HaproxyPort;
  paths: Paths;
  log: Logger;
  /** The control plane's hello capabilities of the current session. */
  capabilities(): readonly string[];
}

/**
 * The agent's Kubernetes API load balancer: the reconciler for the agent's lifetime (re-applies
 * the stored list at once, retries, restarts HAProxy) and a control-plane monitor per session.
 */
export function createKubeApiRuntime(options: KubeApiRuntimeOptions): {
  sessionStarted(session: Session): void;
  stop(): void;
} {
  const log = options.log.child({ component: "kubeproxy" });
  const reconciler = startHaproxyReconciler({
    haproxy: options.haproxy,
    log,
    report: (entry) => reportNodelog(options.paths, entry, log),
  });
  let stopMonitor: (() => void) | undefined;
  return {
    sessionStarted(session) {
      stopMonitor?.();
      stopMonitor = startControlPlaneMonitor(session, {
        haproxy: options.haproxy,
        log,
        capabilities: options.capabilities,
      });
    },
    stop() {
      stopMonitor?.();
      reconciler.stop();
    },
  };
}

/** A node log over its own short-lived L2 client: failures happen rarely and also when disconnected. */
async function reportNodelog(paths: Paths, entry: Nodelog, log: Logger): Promise<void> {
  try {
    const config = loadConfig(paths);
    const client = createL2Client(
      endpointFromConfig(config),
      await readIdentity(identityPaths(paths, config)),
    );
    try {
      await sendNodelog(client, entry, log);
    } finally {
      client.close();
    }
  } catch (err) {
    log.warn({ err: (err as Error).message, type: entry.type }, "node log not delivered");
  }
}
