import * as z from "zod";

/**
 * One catalogue entry per instruction type (Nodeward -> agent), shared by both programs.
 * Payload schemas follow Go JSON semantics of the original: unknown keys are ignored and
 * missing keys take zero values. Fields added by runos are optional and documented `@since`.
 */
export interface InstructionSpec<
  P extends z.ZodType = z.ZodType,
  A extends Record<string, z.ZodType> = Record<string, z.ZodType>,
> {
  type: string;
  summary: string;
  payload: P;
  /** Answer type string -> its payload schema. `ERROR` is implicit for every instruction. */
  answers: A;
  /** Protocol version in which this entry appeared: 1 = the original contract. */
  since: number;
}

export function defineInstruction<P extends z.ZodType, A extends Record<string, z.ZodType>>(
  spec: InstructionSpec<P, A>,
): InstructionSpec<P, A> {
  return spec;
}

/** Go zero-value helpers: a missing key decodes like the original agent would decode it. */
export const str = () => z.string().default("");
export const bool = () => z.boolean().default(false);
export const int64 = () => z.number().int().default(0);
export const noContent = z.object({});
