import { errorMessage, isRunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";
import { decodeJsonB64, type Envelope, encodeJsonB64, errorEnvelope } from "../../wire/envelope.js";
import { parseWith } from "../../wire/messages.js";
import type { HandlerContext, InstructionHandler } from "../instructions/define.js";

export interface DispatchDeps {
  handlers: ReadonlyMap<string, InstructionHandler>;
  context: Omit<HandlerContext, "tag" | "log">;
  log: Logger;
}

/**
 * Runs one instruction to its answer. Never throws: unknown types, bad payloads and handler
 * failures all become ERROR answers with the instruction's tag; every answer is a fresh object.
 */
export async function dispatchInstruction(
  deps: DispatchDeps,
  instruction: Envelope,
): Promise<Envelope | null> {
  const { tag, type } = instruction;
  const handler = deps.handlers.get(type);
  if (!handler) return errorEnvelope(tag, `unknown instruction type: ${type}`);
  const log = deps.log.child({ type, tag });
  try {
    const payload = parseWith(handler.spec.payload, decodeJsonB64(instruction.jsonB64), `${type} payload`);
    const answer = await handler.handle(payload, { ...deps.context, tag, log });
    if (answer === null) {
      log.info("Suppressing ack");
      return null;
    }
    return { type: answer.type, jsonB64: encodeJsonB64(answer.payload), tag };
  } catch (err) {
    if (isRunosError(err) && err.userFixable) {
      log.warn({ code: err.code, err: err.message }, "instruction failed");
      return errorEnvelope(tag, err.message);
    }
    log.error({ err: errorMessage(err) }, "instruction handler crashed");
    return errorEnvelope(tag, `internal error handling instruction: ${errorMessage(err)}`);
  }
}
