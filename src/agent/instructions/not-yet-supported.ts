import { RunosError } from "../../common/errors.js";
import type { InstructionSpec } from "../../wire/instructions/define.js";
import { defineHandler, type InstructionHandler } from "./define.js";

/**
 * Instructions of the contract whose capability has not landed in this agent: they are still
 * validated (a malformed payload says so) and then answered with a clear ERROR.
 */
export function notYetSupported(spec: InstructionSpec): InstructionHandler {
  return defineHandler(spec, async () => {
    throw new RunosError("NA_UNSUPPORTED", `${spec.type} is not supported by this agent yet`);
  });
}
