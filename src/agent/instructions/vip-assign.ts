import { errorMessage, RunosError } from "../../common/errors.js";
import { VipAssign } from "../../wire/instructions/vip-assign.js";
import type { VipKeeper } from "../vip/keeper.js";
import { defineHandler, type HandlerContext } from "./define.js";

/**
 * Binds the VIP if the generation is newer than any applied here. A stale one is answered
 * `ok: false` (the original acked it `ok: true` although nothing was bound); a failed bind is
 * not answered at all, so the control plane hands the VIP to the next candidate after 5 s.
 */
export const vipAssign = defineHandler(VipAssign, async (payload, ctx) => {
  const keeper = vipKeeperOf(ctx);
  try {
    const outcome = await keeper.assign(payload.generation, payload.vip);
    if (!outcome.applied) {
      ctx.log.info(
        { generation: payload.generation, reason: outcome.reason },
        "Ignoring stale VIP instruction",
      );
      return { type: "VIP_ASSIGN_RESPONSE", payload: { ok: false, message: outcome.reason } };
    }
    return { type: "VIP_ASSIGN_RESPONSE", payload: { ok: true } };
  } catch (err) {
    ctx.log.warn(
      { generation: payload.generation, err: errorMessage(err) },
      "VIP assign failed; not answering, so the control plane picks another holder",
    );
    return null;
  }
});

export function vipKeeperOf(ctx: HandlerContext): VipKeeper {
  if (ctx.vip) return ctx.vip;
  throw new RunosError("NA_INTERNAL", "the VIP keeper is not wired into this agent");
}
