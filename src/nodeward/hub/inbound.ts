import type { Clock } from "../../common/clock.js";
import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { decodeJsonB64, type Envelope, encodeJsonB64, envelope } from "../../wire/envelope.js";
import { AgentHello, Heartbeat, MessageType, UpgradeLog } from "../../wire/messages.js";
import type { HeartbeatStatus, Repository } from "../store/repository.js";
import type { ClusterView } from "./cluster-view.js";
import type { Presence } from "./presence.js";
import type { Session } from "./session.js";

export interface InboundDeps {
  store: Repository;
  presence: Presence;
  clusterView: ClusterView;
  clock: Clock;
  log: Logger;
  version: string;
  capabilities: readonly string[];
  /** The node announced itself (hello) or reported a new underlay address (heartbeat). */
  onNodeChanged?: (session: Session, why: "hello" | "address") => void;
}

type Handler = (session: Session, message: Envelope, deps: InboundDeps) => Promise<void> | void;

/**
 * Agent-originated messages (spec 3.4-3.8) and the answers nodeward owes them. Every answer
 * carries the tag of the message it answers. Fire-and-forget types get no answer.
 */
const handlers: Record<string, Handler> = {
  [MessageType.heartbeat]: onHeartbeat,
  [MessageType.amIVipHolder]: async (session, message, deps) => {
    const answer = await deps.clusterView.vipHolder(session);
    session.send(envelope(MessageType.amIVipHolderAnswer, answer, message.tag));
  },
  [MessageType.getControlPlaneNodes]: async (session, message, deps) => {
    const nodes = await deps.clusterView.controlPlaneNodes(session);
    const endpoints = nodes.map((n) => n.kubeEndpoint);
    session.send(envelope(MessageType.getControlPlaneNodesAnswer, endpoints, message.tag));
  },
  [MessageType.agentHello]: (session, message, deps) => {
    const hello = AgentHello.safeParse(decodeJsonB64(message.jsonB64));
    if (hello.success) {
      session.capabilities = hello.data.capabilities;
      session.agentVersion = hello.data.version;
    }
    const answer = { version: deps.version, capabilities: [...deps.capabilities], nid: session.nid };
    session.send(envelope(MessageType.nodewardHello, answer, message.tag));
    deps.onNodeChanged?.(session, "hello");
  },
  [MessageType.upgradeLog]: async (session, message, deps) => {
    const log = UpgradeLog.parse(decodeJsonB64(message.jsonB64));
    await deps.store.addNodelog({
      nid: session.nid,
      time: deps.clock.now(),
      type: "UpgradeNodeK8s",
      // the upgrade log counts 1 = info .. 3 = error, node logs the other way round
      severity: log.severity >= 3 ? 1 : log.severity === 2 ? 2 : 3,
      message: log.message.slice(0, 16 * 1024),
      code: "",
      cause: "",
      remedy: "",
      docsUrl: "",
    });
  },
};

/**
 * Entry point for every message read from a node's stream. Answers to our own requests go to
 * their waiter; everything else is handled in arrival order. Never throws: a malformed
 * message is logged and dropped, it does not end the stream.
 */
export function handleInbound(session: Session, raw: Envelope, deps: InboundDeps): void {
  const message: Envelope = { type: raw.type ?? "", jsonB64: raw.jsonB64 ?? "", tag: raw.tag ?? "" };
  if (message.tag !== "" && session.takeAnswer(message)) return;
  const handler = handlers[message.type];
  if (!handler) {
    const fields = { nid: session.nid, type: message.type.slice(0, 64), tag: message.tag };
    // A tagged message nobody waits for is an answer that came after its request timed out (a
    // storm makes thousands of them): not news. An untagged unknown type is.
    if (message.tag !== "") deps.log.debug(fields, "late answer dropped: its request had timed out");
    else deps.log.warn(fields, "ignored unknown message type");
    return;
  }
  session.runInOrder(async () => {
    try {
      await handler(session, message, deps);
    } catch (err) {
      deps.log.warn(
        { nid: session.nid, type: message.type, err: errorMessage(err) },
        "malformed agent message dropped",
      );
    }
  });
}

/** Every healthy heartbeat gets the same answer: encode it once. */
const healthyAnswerB64 = encodeJsonB64({ isHealthy: true, message: "" });

/**
 * A node sends the same heartbeat every few seconds until something about it changes; the last
 * one understood per session is kept, so a repeat costs a string comparison instead of base64,
 * JSON and schema work (at 10,000 nodes that is 2,000 heartbeats a second).
 */
const lastHeartbeat = new WeakMap<Session, { jsonB64: string; status: HeartbeatStatus }>();

function onHeartbeat(session: Session, message: Envelope, deps: InboundDeps): void {
  let status: HeartbeatStatus | undefined;
  let problem = "";
  const last = lastHeartbeat.get(session);
  if (last && last.jsonB64 === message.jsonB64) {
    status = last.status;
  } else {
    try {
      const beat = Heartbeat.parse(decodeJsonB64(message.jsonB64));
      status = {
        version: beat.version || null,
        isCp: beat.isCp,
        isWorker: beat.isWorker,
        k8sStatus: beat.status || null,
        externalIp: beat.externalIpAddress || null,
        nodeIp: beat.nodeIp || null,
        vpnIp: beat.vpnIp || null,
        hostname: beat.hostname?.slice(0, 253) || null,
      };
      lastHeartbeat.set(session, { jsonB64: message.jsonB64, status });
    } catch (err) {
      problem = `heartbeat not understood: ${errorMessage(err)}`;
    }
  }
  deps.presence.heartbeat(session.nid, status);
  if (status?.nodeIp && status.nodeIp !== session.reportedNodeIp) {
    session.reportedNodeIp = status.nodeIp;
    deps.onNodeChanged?.(session, "address");
  }
  const answerB64 = problem === "" ? healthyAnswerB64 : encodeJsonB64({ isHealthy: false, message: problem });
  session.send({ type: MessageType.heartbeatAnswer, jsonB64: answerB64, tag: message.tag });
}
