import * as z from "zod";
import { defineInstruction, noContent, str } from "./define.js";

export const DeleteCr = defineInstruction({
  type: "DELETE_CR",
  summary: "Delete a runos.com/v1 custom resource (namespace and name = id).",
  payload: z.object({ type: str(), id: str() }),
  answers: { NO_CONTENT: noContent },
  since: 1,
});
