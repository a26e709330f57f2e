import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { decodeJsonB64, encodeJsonB64 } from "../../wire/envelope.js";
import { type Heartbeat, HeartbeatAnswer, MessageType, parseWith } from "../../wire/messages.js";
import type { Session } from "./session.js";

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive failures after which the session is torn down and redialled. */
  maxFailures: number;
  payload(): Heartbeat;
  /** Told about every failure streak (>= 1); the VIP self-drop hooks in here. */
  onFailure?(consecutive: number): void;
  onSuccess?(): void;
}

/**
 * Heartbeats on a timer (spec 3.5). The payload comes from cached facts, so a tick never waits
 * on kubectl or on an external address look-up.
 */
export function startHeartbeat(session: Session, options: HeartbeatOptions, log: Logger): () => void {
  let failures = 0;
  let inFlight = false;
  const tick = async () => {
    if (inFlight || !session.isOpen) return;
    inFlight = true;
    try {
      const answer = await session.request(
        MessageType.heartbeat,
        encodeJsonB64(options.payload()),
        options.timeoutMs,
      );
      const parsed = parseWith(HeartbeatAnswer, decodeJsonB64(answer.jsonB64), "heartbeat answer");
      if (!parsed.isHealthy)
        log.warn({ message: parsed.message }, "control plane reports this node unhealthy");
      failures = 0;
      options.onSuccess?.();
    } catch (err) {
      failures += 1;
      log.warn({ consecutive_failures: failures, err: errorMessage(err) }, "Heartbeat error");
      options.onFailure?.(failures);
      if (failures >= options.maxFailures) session.close("heartbeat_stopped");
    } finally {
      inFlight = false;
    }
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  return () => clearInterval(timer);
}
