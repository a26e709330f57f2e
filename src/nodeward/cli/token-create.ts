import { RunosError } from "../../common/errors.js";
import type { TokenGrant } from "../api/routes-tokens.js";
import { parseDuration } from "../config.js";
import type { ApiClient } from "./api-client.js";
import { fields } from "./format.js";
import type { CommandResult } from "./io.js";

export interface TokenCreateOptions {
  aid: string;
  cluster: string;
  ttl: string;
  uses: string;
  role?: string;
}

/** `nodeward token create`: a one-time (or n-time) enrolment token and the line to run on the node. */
export async function tokenCreate(options: TokenCreateOptions, api: ApiClient): Promise<CommandResult> {
  const uses = Number(options.uses);
  if (!Number.isInteger(uses) || uses < 1)
    throw new RunosError("NA_USAGE", `invalid --uses "${options.uses}": expected a whole number >= 1`);
  const ttlSeconds = Math.max(1, Math.round(parseDuration(options.ttl) / 1000));
  const grant = await api.post<TokenGrant>("/api/tokens", {
    aid: options.aid,
    cluster: options.cluster,
    ttlSeconds,
    uses,
    role: options.role ?? "worker",
  });
  const human = [
    fields([
      ["token", grant.token],
      ["account", grant.aid],
      ["cluster", grant.cluster],
      ["expires", grant.expiresAt],
      ["uses", String(grant.uses)],
      ["CA hash", grant.caHash],
    ]),
    "",
    "Run on the new machine (as root):",
    `  ${grant.installCommand}`,
  ].join("\n");
  return { data: grant, human };
}
