import type * as z from "zod";
import type { Logger } from "../../common/log.js";
import type { InstructionSpec } from "../../wire/instructions/define.js";
import type { HostPorts } from "../host/ports.js";
import type { VipKeeper } from "../vip/keeper.js";

export interface Answer {
  type: string;
  payload: unknown;
}

/** What the node knows about itself from its configuration. */
export interface NodeFacts {
  nid: string;
  /** Underlay address advertised to peers. */
  ip: string;
}

export interface HandlerContext {
  tag: string;
  node(): NodeFacts;
  log: Logger;
  host: HostPorts;
  signal: AbortSignal;
  /** The control-plane VIP's fenced state (VIP_ASSIGN/VIP_RELEASE); set by the agent. */
  vip?: VipKeeper;
}

/** One handler per instruction type; `null` means "send no answer" (a failed VIP_ASSIGN). */
export interface InstructionHandler<S extends InstructionSpec = InstructionSpec> {
  spec: S;
  handle(payload: z.infer<S["payload"]>, ctx: HandlerContext): Promise<Answer | null>;
}

export function defineHandler<S extends InstructionSpec>(
  spec: S,
  handle: (payload: z.infer<S["payload"]>, ctx: HandlerContext) => Promise<Answer | null>,
): InstructionHandler<S> {
  return { spec, handle };
}
