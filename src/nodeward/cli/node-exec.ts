import { errorMessage, RunosError } from "../../common/errors.js";
import type { InstructionAnswer } from "../hub/session.js";
import type { ApiClient } from "./api-client.js";
import type { CommandResult } from "./io.js";

/**
 * `nodeward node exec NID TYPE [JSON]`: sends one instruction and prints the agent's answer.
 * An ERROR answer is a failure (exit 1).
 */
export async function nodeExec(
  nid: string,
  type: string,
  json: string | undefined,
  options: { timeout: string },
  api: ApiClient,
): Promise<CommandResult> {
  let payload: unknown;
  if (json !== undefined) {
    try {
      payload = JSON.parse(json);
    } catch (err) {
      throw new RunosError("NA_INVALID_INPUT", `the payload is not valid JSON: ${errorMessage(err)}`);
    }
  }
  const timeoutSeconds = Number(options.timeout);
  if (!(timeoutSeconds > 0))
    throw new RunosError("NA_USAGE", `invalid --timeout "${options.timeout}": seconds > 0`);
  const answer = await api.post<InstructionAnswer>(
    `/api/nodes/${encodeURIComponent(nid)}/instructions`,
    { type, payload, timeoutSeconds },
    timeoutSeconds * 1000 + 10_000,
  );
  if ("error" in answer) {
    return { data: answer, human: `the agent answered ERROR: ${answer.error}`, exitCode: 1 };
  }
  return { data: answer, human: `${answer.type}\n${JSON.stringify(answer.payload, null, 2)}` };
}
