import { errorMessage, RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import type { HaproxyApplyResult, HaproxyPort } from "../host/haproxy.js";
import {
  type ApiEndpoint,
  endpointAddress,
  normaliseEndpoints,
  parseApiEndpoint,
} from "../host/haproxy-config.js";

export interface ApplyEndpointsResult {
  /** The backends HAProxy has now (normalised `host:port`, sorted). */
  endpoints: string[];
  /** False when HAProxy already had this set and was running: nothing was touched. */
  changed: boolean;
  /** `pending`: this list failed before and the reconciler is retrying it (polls leave it to it). */
  action: HaproxyApplyResult["action"] | "pending";
  skipped: { endpoint: string; reason: string }[];
}

export interface ApplyEndpointsOptions {
  /** push, poll, refresh, restart: recorded with the desired list. */
  source: string;
  /** Check HAProxy even when the list equals the stored one (start it if it is not running). */
  ensure?: boolean;
  /** Leave a list that failed before to the reconciler's backoff instead of retrying now (polls). */
  deferRetries?: boolean;
}

const locks = new WeakMap<HaproxyPort, Promise<unknown>>();

/**
 * The one apply path for pushed, polled, refreshed and persisted control-plane endpoints (spec
 * 7.5, corrected): entries that do not parse are skipped and named; an empty result is refused
 * and HAProxy keeps its backends; the list is compared as a set with the stored desired list;
 * the desired list is persisted before HAProxy is touched, and marked applied only once the new
 * backends are live, so a failed apply is retried (reconciler) even across agent restarts.
 */
export function applyControlPlaneEndpoints(
  haproxy: HaproxyPort,
  endpoints: readonly string[],
  options: ApplyEndpointsOptions,
  log: Logger,
): Promise<ApplyEndpointsResult> {
  const previous = locks.get(haproxy) ?? Promise.resolve();
  const next = previous.then(
    () => applyNow(haproxy, endpoints, options, log),
    () => applyNow(haproxy, endpoints, options, log),
  );
  locks.set(
    haproxy,
    next.catch(() => {}),
  );
  return next;
}

async function applyNow(
  haproxy: HaproxyPort,
  endpoints: readonly string[],
  options: ApplyEndpointsOptions,
  log: Logger,
): Promise<ApplyEndpointsResult> {
  const valid: ApiEndpoint[] = [];
  const skipped: ApplyEndpointsResult["skipped"] = [];
  for (const text of endpoints) {
    const parsed = parseApiEndpoint(text);
    if ("error" in parsed) {
      skipped.push({ endpoint: text, reason: parsed.error });
      log.warn({ endpoint: text, reason: parsed.error }, "Skipping control-plane endpoint");
    } else {
      valid.push(parsed);
    }
  }
  const servers = normaliseEndpoints(valid);
  const addresses = servers.map(endpointAddress);
  const stored = await haproxy.loadDesired();
  if (servers.length === 0) {
    throw new RunosError(
      "NA_INVALID_INPUT",
      `refusing an empty control-plane endpoint list${skipped.length ? ` (${skipped.length} skipped)` : ""}; HAProxy keeps its ${stored?.endpoints.length ?? 0} backend(s)`,
    );
  }
  const sameStored = stored !== undefined && sameList(stored.endpoints, addresses);
  if (sameStored && !stored.applied && options.deferRetries) {
    return { endpoints: addresses, changed: false, action: "pending", skipped };
  }
  const same = sameStored && stored.applied;
  if (same && !options.ensure) return { endpoints: addresses, changed: false, action: "unchanged", skipped };

  const desired = {
    endpoints: addresses,
    source: same && stored ? stored.source : options.source,
    updatedAt: same && stored ? stored.updatedAt : new Date().toISOString(),
  };
  if (!same) await haproxy.saveDesired({ ...desired, applied: false });
  let result: HaproxyApplyResult;
  try {
    result = await haproxy.apply(servers);
  } catch (err) {
    await haproxy.saveDesired({ ...desired, applied: false, lastError: errorMessage(err) });
    throw err;
  }
  if (!same || result.action !== "unchanged") {
    await haproxy.saveDesired({ ...desired, applied: true, appliedAt: new Date().toISOString() });
    log.info(
      { endpoints: addresses, action: result.action, runner: result.runner, ms: result.durationMs },
      "HAProxy backends applied",
    );
  }
  return { endpoints: addresses, changed: result.action !== "unchanged", action: result.action, skipped };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
