import { readFile } from "node:fs/promises";
import * as z from "zod";
import { writeFileAtomic } from "../../common/atomic-file.js";
import { errorMessage, RunosError } from "../../common/errors.js";
import type { Paths } from "./paths.js";

const VipBinding = z.object({ iface: z.string(), address: z.string() });
export type VipBinding = z.infer<typeof VipBinding>;

const VipState = z.object({
  /** The last generation applied on this node (assign, release or the session-start answer). */
  generation: z.number().int().min(0),
  /** Where this agent bound the VIP; null when it holds none. */
  bound: VipBinding.nullable(),
  updatedAt: z.string().optional(),
});
export type VipState = z.infer<typeof VipState>;

/** The fencing state, on disk so a restarted agent still refuses replayed (stale) instructions. */
export interface VipStateStore {
  readonly path: string;
  load(): Promise<VipState>;
  save(state: VipState): Promise<void>;
}

export const emptyVipState: VipState = { generation: 0, bound: null };

export function createVipStateStore(paths: Paths): VipStateStore {
  const path = paths.onRoot("/var/lib/runos/vip/state.json");
  return {
    path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ...emptyVipState };
        throw err;
      }
      let parsed: z.ZodSafeParseResult<VipState>;
      try {
        parsed = VipState.safeParse(JSON.parse(text));
      } catch (err) {
        throw corrupt(path, errorMessage(err));
      }
      if (!parsed.success) throw corrupt(path, z.prettifyError(parsed.error));
      return parsed.data;
    },
    async save(state) {
      const record: VipState = { ...state, updatedAt: new Date().toISOString() };
      await writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600, dirMode: 0o700 });
    },
  };
}

/** Never guessed: a lost generation would let a replayed assign through. */
function corrupt(path: string, why: string): RunosError {
  return new RunosError("NA_INVALID_INPUT", `${path} is not a valid VIP state file: ${why}`, {
    hint: "check the file; removing it resets the VIP generation to 0 (the control plane's next assign is fresh)",
  });
}
