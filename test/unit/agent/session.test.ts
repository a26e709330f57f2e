import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import type { DispatchDeps } from "../../../src/agent/daemon/dispatch.js";
import { Session, type StreamLike } from "../../../src/agent/daemon/session.js";
import { defineHandler, type InstructionHandler } from "../../../src/agent/instructions/define.js";
import { createHandlerRegistry } from "../../../src/agent/instructions/index.js";
import { RunosError } from "../../../src/common/errors.js";
import { silentLogger } from "../../../src/common/log.js";
import { decodeJsonB64, type Envelope, encodeJsonB64, newTag } from "../../../src/wire/envelope.js";
import { GetNodeStatus } from "../../../src/wire/instructions/get-node-status.js";
import { VipAssign } from "../../../src/wire/instructions/vip-assign.js";
import { createFakeHost } from "./fake-host.js";

/** An in-memory stream: `sent` is what the agent wrote; `deliver` plays the control plane. */
class FakeStream extends EventEmitter implements StreamLike {
  sent: Envelope[] = [];
  write(message: Envelope): boolean {
    this.sent.push(message);
    this.emit("sent", message);
    return true;
  }
  end(): void {
    this.emit("end");
  }
  deliver(message: Envelope): void {
    this.emit("data", message);
  }
  next(): Promise<Envelope> {
    return new Promise((resolve) => this.once("sent", resolve));
  }
}

function deps(handlers: InstructionHandler[] = []): DispatchDeps {
  return {
    handlers: createHandlerRegistry(handlers),
    context: {
      host: createFakeHost(),
      signal: new AbortController().signal,
      node: () => ({ nid: "n-test", ip: "198.18.0.10" }),
    },
    log: silentLogger(),
  };
}

function open(handlers: InstructionHandler[] = []) {
  const stream = new FakeStream();
  const session = new Session(stream, deps(handlers), silentLogger(), {
    workers: 5,
    queueLimit: 3,
    drainMs: 100,
  });
  return { stream, session };
}

test("GET_NODE_STATUS is answered with NODE_STATUS and the same tag", async () => {
  const { stream } = open();
  const tag = newTag();
  const answered = stream.next();
  stream.deliver({ type: "GET_NODE_STATUS", jsonB64: "e30=", tag });
  const answer = await answered;
  assert.equal(answer.type, "NODE_STATUS");
  assert.equal(answer.tag, tag);
  assert.equal((decodeJsonB64(answer.jsonB64) as { nodeIsReady: boolean }).nodeIsReady, false);
});

test("unknown types, bad payloads and unsupported types get ERROR with raw text", async () => {
  const { stream } = open();
  const cases: [Envelope, RegExp][] = [
    [{ type: "REINSTALL_NODE", jsonB64: "e30=", tag: "t1" }, /^unknown instruction type: REINSTALL_NODE$/],
    [{ type: "GET_NODE_STATUS", jsonB64: "", tag: "t2" }, /empty payload/],
    [{ type: "RUN_KUBECTL_COMMAND", jsonB64: encodeJsonB64({ a: 1 }), tag: "t3" }, /expected array/],
    [{ type: "UPDATE_DNSMASQ", jsonB64: "e30=", tag: "t4" }, /not supported by this agent yet/],
  ];
  for (const [instruction, expected] of cases) {
    const answered = stream.next();
    stream.deliver(instruction);
    const answer = await answered;
    assert.equal(answer.type, "ERROR");
    assert.equal(answer.tag, instruction.tag);
    assert.match(answer.jsonB64, expected);
  }
});

test("a crashing handler becomes an ERROR answer and the session keeps serving", async () => {
  const boom = defineHandler(GetNodeStatus, async () => {
    throw new TypeError("cannot read properties of undefined");
  });
  const { stream, session } = open([boom as unknown as InstructionHandler]);
  const answered = stream.next();
  stream.deliver({ type: "GET_NODE_STATUS", jsonB64: "e30=", tag: "t1" });
  const answer = await answered;
  assert.equal(answer.type, "ERROR");
  assert.match(answer.jsonB64, /^internal error handling instruction: cannot read/);
  assert.equal(session.isOpen, true);
});

test("a handler may suppress its answer (failed VIP_ASSIGN); a RunosError passes its message", async () => {
  const suppress = defineHandler(VipAssign, async () => null);
  const refuse = defineHandler(GetNodeStatus, async () => {
    throw new RunosError("NA_INVALID_INPUT", "nope");
  });
  const { stream } = open([suppress, refuse] as unknown as InstructionHandler[]);
  stream.deliver({ type: "VIP_ASSIGN", jsonB64: encodeJsonB64({ generation: 3 }), tag: "v" });
  const answered = stream.next();
  stream.deliver({ type: "GET_NODE_STATUS", jsonB64: "e30=", tag: "s" });
  const answer = await answered;
  assert.deepEqual(answer, { type: "ERROR", jsonB64: "nope", tag: "s" });
  assert.equal(stream.sent.filter((m) => m.tag === "v").length, 0);
});

test("at most 5 handlers run at once, extra ones queue, and a full queue answers busy", async () => {
  let running = 0;
  let peak = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const slow = defineHandler(GetNodeStatus, async () => {
    running += 1;
    peak = Math.max(peak, running);
    await gate;
    running -= 1;
    return { type: "NODE_STATUS", payload: { nodeIsReady: true } };
  });
  const { stream } = open([slow as unknown as InstructionHandler]);
  for (let i = 0; i < 9; i += 1) stream.deliver({ type: "GET_NODE_STATUS", jsonB64: "e30=", tag: `t${i}` });
  await new Promise((r) => setImmediate(r));
  assert.equal(peak, 5);
  // 5 running + 3 queued; the 9th is refused at once
  assert.deepEqual(
    stream.sent.map((m) => [m.tag, m.type]),
    [["t8", "ERROR"]],
  );
  release();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(stream.sent.filter((m) => m.type === "NODE_STATUS").length, 8);
  const tags = new Set(stream.sent.map((m) => m.tag));
  assert.equal(tags.size, 9, "each answer carries its own instruction's tag");
});

test("agent-originated requests are correlated by tag and never dispatched", async () => {
  const { stream, session } = open();
  const sent = stream.next();
  const pending = session.request("NodeAgentHeartbeatToServer", encodeJsonB64({ status: "x" }), 1_000);
  const request = await sent;
  stream.deliver({
    type: "NodeAgentHeartbeatToServerResponse",
    jsonB64: encodeJsonB64({ isHealthy: true }),
    tag: request.tag,
  });
  const answer = await pending;
  assert.equal(answer.tag, request.tag);
  assert.equal(stream.sent.length, 1, "the answer was not treated as an instruction");
});

test("pending requests fail fast when the stream closes, and on timeout", async () => {
  const { stream, session } = open();
  const pending = session.request("AmIVIPHolder", "e30=", 5_000);
  stream.end();
  await assert.rejects(pending, /session ended/);
  assert.equal(await session.closed(), "stream_ended");
  const second = open();
  await assert.rejects(second.session.request("AmIVIPHolder", "e30=", 20), /no answer within 20 ms/);
});
