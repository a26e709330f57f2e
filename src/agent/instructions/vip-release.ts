import { errorMessage } from "../../common/errors.js";
import { VipRelease } from "../../wire/instructions/vip-release.js";
import { defineHandler } from "./define.js";
import { vipKeeperOf } from "./vip-assign.js";

/** Drops the VIP. Always answered: `ok: true`, or `ok: false` with why (stale, or the unbind failed). */
export const vipRelease = defineHandler(VipRelease, async (payload, ctx) => {
  try {
    const outcome = await vipKeeperOf(ctx).release(payload.generation, payload.vip);
    if (!outcome.applied)
      return { type: "VIP_RELEASE_RESPONSE", payload: { ok: false, message: outcome.reason } };
    return { type: "VIP_RELEASE_RESPONSE", payload: { ok: true } };
  } catch (err) {
    ctx.log.warn({ generation: payload.generation, err: errorMessage(err) }, "VIP release failed");
    return { type: "VIP_RELEASE_RESPONSE", payload: { ok: false, message: errorMessage(err) } };
  }
});
