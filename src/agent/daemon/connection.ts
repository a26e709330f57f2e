import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { decodeJsonB64, encodeJsonB64, NO_CONTENT_B64 } from "../../wire/envelope.js";
import {
  AmIVipHolderAnswer,
  type Heartbeat,
  MessageType,
  NodewardHello,
  parseWith,
} from "../../wire/messages.js";
import type { Identity } from "../identity/files.js";
import { createL2Client, type L2Client, waitForReady } from "../link/clients.js";
import { type ControlPlaneEndpoint, hostPort } from "../link/endpoints.js";
import { sendNodelog } from "../link/nodelog.js";
import { agentVersion } from "../version.js";
import type { DispatchDeps } from "./dispatch.js";
import { startHeartbeat } from "./heartbeat.js";
import { Session, type SessionEndReason, type StreamLike } from "./session.js";

/** Capabilities this agent announces; nodeward uses an addition only when both sides have it. */
export const agentCapabilities = [
  "csr-enrolment",
  "cert-rotation",
  "hello",
  "peers-full-state",
  "wg1-users",
  "peers-delta",
  "cp-endpoints-push",
  // nodeward's Kubernetes lists may call `runos service` and `runos preflight --kubernetes`.
  "kubernetes-lists",
];

export interface ConnectionOptions {
  endpoint: ControlPlaneEndpoint;
  identity: Identity;
  dispatch: DispatchDeps;
  log: Logger;
  heartbeatIntervalMs: number;
  heartbeatPayload(): Heartbeat;
  onSessionStart(session: Session, client: L2Client): void;
  onHeartbeat(ok: boolean, consecutiveFailures: number): void;
  onHello(capabilities: string[]): void;
  /** The session-start AmIVIPHolder answer (spec 3.2 step 4); a failed query is only logged. */
  onVipHolder?(answer: AmIVipHolderAnswer): void;
  dialTimeoutMs?: number;
  /** The control plane refused us with a "come back later" hint. */
  onRetryAfter?(ms: number): void;
}

/**
 * One connection (spec 3.2 steps 1-8): dial, open the stream, start the session's services, and
 * return why it ended. A missing wg0 or an unanswered VIP query never tears it down.
 */
export async function runConnection(
  options: ConnectionOptions,
  signal: AbortSignal,
): Promise<SessionEndReason> {
  const { log } = options;
  const client = createL2Client(options.endpoint, options.identity);
  try {
    await waitForReady(
      client,
      options.dialTimeoutMs ?? 20_000,
      hostPort(options.endpoint.host, options.endpoint.l2Port),
    );
    const stream = client.nodeAgentStream() as unknown as StreamLike;
    const session = new Session(stream, options.dispatch, log, {
      workers: 5,
      queueLimit: 100,
      drainMs: 30_000,
    });
    const onAbort = () => session.close("shutdown");
    signal.addEventListener("abort", onAbort, { once: true });
    log.info("Stream established, starting services");
    options.onSessionStart(session, client);

    void announce(session, options);
    void askVipHolder(session, log).then((answer) => answer && options.onVipHolder?.(answer));
    const stopHeartbeat = startHeartbeat(
      session,
      {
        intervalMs: options.heartbeatIntervalMs,
        // a beat slower than two intervals counts as failed, so the VIP self-drop stays prompt
        timeoutMs: Math.min(10_000, Math.max(1_000, 2 * options.heartbeatIntervalMs)),
        maxFailures: 10,
        payload: options.heartbeatPayload,
        onFailure: (n) => options.onHeartbeat(false, n),
        onSuccess: () => options.onHeartbeat(true, 0),
      },
      log,
    );
    void sendNodelog(client, { type: "NodeAgentLifecycle", severity: 3, message: "Agent started" }, log);
    log.info("All services started, agent running");

    const reason = await session.closed();
    if (session.retryAfterMs > 0) options.onRetryAfter?.(session.retryAfterMs);
    signal.removeEventListener("abort", onAbort);
    stopHeartbeat();
    log.info({ reason }, "Connection services stopped");
    await session.drain(reason === "shutdown" ? 5_000 : 30_000);
    if (reason === "shutdown") {
      await sendNodelog(client, { type: "NodeAgentLifecycle", severity: 3, message: "Agent stopped" }, log);
    }
    return reason;
  } finally {
    client.close();
  }
}

async function announce(session: Session, options: ConnectionOptions): Promise<void> {
  try {
    const answer = await session.request(
      MessageType.agentHello,
      encodeJsonB64({ version: agentVersion, capabilities: agentCapabilities }),
      10_000,
    );
    if (answer.type !== MessageType.nodewardHello) {
      options.log.info({ type: answer.type }, "control plane does not speak the hello exchange");
      return options.onHello([]);
    }
    const hello = parseWith(NodewardHello, decodeJsonB64(answer.jsonB64), "hello answer");
    options.onHello(hello.capabilities);
  } catch (err) {
    options.log.info({ err: errorMessage(err) }, "no hello answer; assuming the original contract only");
    options.onHello([]);
  }
}

/** AmIVIPHolder (spec 3.6); undefined when it failed, which never ends the session. */
export async function askVipHolder(session: Session, log: Logger): Promise<AmIVipHolderAnswer | undefined> {
  try {
    const answer = await session.request(MessageType.amIVipHolder, NO_CONTENT_B64, 10_000);
    const holder = parseWith(AmIVipHolderAnswer, decodeJsonB64(answer.jsonB64), "AmIVIPHolder answer");
    log.info({ isHolder: holder.isHolder, generation: holder.generation }, "VIP holder state");
    return holder;
  } catch (err) {
    log.warn({ err: errorMessage(err) }, "VIP holder query failed");
    return undefined;
  }
}
