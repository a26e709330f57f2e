import { type Clock, systemClock, type Timer } from "../../common/clock.js";
import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { decodeJsonB64 } from "../../wire/envelope.js";
import { ControlPlaneEndpoints, MessageType, parseWith } from "../../wire/messages.js";
import type { Session } from "../daemon/session.js";
import type { HaproxyPort } from "../host/haproxy.js";
import { applyControlPlaneEndpoints } from "./apply.js";

/** Announced by both sides: nodeward pushes RUNOS_SET_CONTROL_PLANE_ENDPOINTS on every change. */
export const controlPlanePushCapability = "cp-endpoints-push";

export interface MonitorOptions {
  haproxy: HaproxyPort;
  log: Logger;
  /** The control plane's hello capabilities (empty until the hello is answered). */
  capabilities(): readonly string[];
  clock?: Clock;
  /** Poll interval against an original control plane (spec 7.5: 5 s). */
  pollMs?: number;
  /** Safety-net interval when the control plane pushes changes. */
  pushedPollMs?: number;
}

/**
 * Per session (spec 7.5): asks for the control-plane list at once, then every 5 s, or every
 * 60 s when the control plane pushes changes itself. Ends with the session.
 */
export function startControlPlaneMonitor(session: Session, options: MonitorOptions): () => void {
  const clock = options.clock ?? systemClock;
  const { log } = options;
  let timer: Timer | undefined;
  let stopped = false;
  const stop = () => {
    stopped = true;
    timer?.cancel();
  };

  const poll = async () => {
    const answer = await session.request(MessageType.getControlPlaneNodes, "", 10_000);
    if (answer.type === "ERROR") {
      log.debug({ error: answer.jsonB64.slice(0, 200) }, "control plane refused GetControlPlaneNodes");
      return;
    }
    const endpoints = parseWith(
      ControlPlaneEndpoints,
      decodeJsonB64(answer.jsonB64),
      "GetControlPlaneNodes answer",
    );
    if (endpoints.length === 0) {
      log.debug("the control plane lists no control-plane nodes; HAProxy left as it is");
      return;
    }
    await applyControlPlaneEndpoints(options.haproxy, endpoints, { source: "poll", deferRetries: true }, log);
  };

  const loop = () => {
    if (stopped || !session.isOpen) return;
    void poll()
      .catch((err) => log.warn({ err: errorMessage(err) }, "control-plane endpoint poll failed"))
      .finally(() => {
        if (stopped || !session.isOpen) return;
        const pushed = options.capabilities().includes(controlPlanePushCapability);
        timer = clock.setTimeout(loop, pushed ? (options.pushedPollMs ?? 60_000) : (options.pollMs ?? 5_000));
      });
  };
  loop();
  void session.closed().then(stop);
  return stop;
}
