import { Backoff } from "../../common/backoff.js";
import { type Clock, systemClock, type Timer } from "../../common/clock.js";
import { errorMessage, toRunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { HaproxyPort } from "../host/haproxy.js";
import type { Nodelog } from "../link/nodelog.js";
import { applyControlPlaneEndpoints } from "./apply.js";

export interface ReconcilerOptions {
  haproxy: HaproxyPort;
  log: Logger;
  /** Sends a node log to the control plane (best effort). */
  report(entry: Nodelog): Promise<void>;
  random?: () => number;
  clock?: Clock;
  /** How often the stored list is read (a failed apply is picked up this fast). */
  tickMs?: number;
  /** How often HAProxy is checked (running, config as desired) while all is well. */
  checkMs?: number;
  /** Backoff of retries after a failed apply. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * Keeps HAProxy at the desired list stored on disk, whoever stored it (a push, a poll,
 * `runos kubeproxy refresh`, an earlier agent): applies it at once on start (an agent restart
 * or a reboot needs no control plane), retries a failed apply with backoff, restarts an
 * agent-run HAProxy that died, and reports the first failure of a streak and the recovery in a
 * node log. The original updated its in-memory list before reloading and never retried.
 */
export function startHaproxyReconciler(options: ReconcilerOptions): { stop(): void; idle(): Promise<void> } {
  const { haproxy, log } = options;
  const clock = options.clock ?? systemClock;
  const tickMs = options.tickMs ?? 2_000;
  const checkMs = options.checkMs ?? 10_000;
  const backoff = new Backoff({
    baseMs: options.retryBaseMs ?? 1_000,
    maxMs: options.retryMaxMs ?? 60_000,
    random: options.random,
  });
  let failures = 0;
  let nextAttemptAt = 0;
  let lastCheckAt = Number.NEGATIVE_INFINITY;
  let stopped = false;
  let timer: Timer | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = async () => {
    const desired = await haproxy.loadDesired();
    if (!desired || desired.endpoints.length === 0) return;
    const now = clock.now();
    const due = failures > 0 ? now >= nextAttemptAt : !desired.applied || now - lastCheckAt >= checkMs;
    if (!due) return;
    lastCheckAt = now;
    try {
      const result = await applyControlPlaneEndpoints(
        haproxy,
        desired.endpoints,
        { source: desired.source, ensure: true },
        log,
      );
      if (failures > 0) {
        log.info({ attempts: failures + 1 }, "HAProxy apply succeeded after retries");
        await options.report({
          type: "HAProxyReload",
          severity: 3,
          message: `HAProxy backends applied after ${failures + 1} attempts: ${result.endpoints.join(", ")}`,
        });
      }
      failures = 0;
      backoff.reset();
    } catch (err) {
      failures += 1;
      const delay = backoff.next();
      nextAttemptAt = clock.now() + delay;
      const failure = toRunosError(err, "NA_EXEC_FAILED");
      log.warn({ attempt: failures, retryInMs: delay, err: errorMessage(err) }, "HAProxy apply failed");
      if (failures === 1) {
        await options.report({
          type: "HAProxyReload",
          severity: 1,
          message: "The Kubernetes API load balancer (HAProxy) could not be updated; retrying",
          code: failure.code,
          cause: failure.message,
          remedy: failure.hint ?? "check `runos kubeproxy list` and /var/log/runos-haproxy.log",
        });
      }
    }
  };

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((err) => log.warn({ err: errorMessage(err) }, "HAProxy reconcile failed"))
      .finally(() => {
        if (!stopped) timer = clock.setTimeout(loop, tickMs);
      });
  };
  loop();
  return {
    stop() {
      stopped = true;
      timer?.cancel();
    },
    /** Resolves when the current pass is over (tests). */
    idle: () => running,
  };
}
