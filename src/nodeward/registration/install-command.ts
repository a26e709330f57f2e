import { defaultL1Port, defaultL2Port } from "../config.js";

export interface InstallCommandInput {
  host: string;
  aid: string;
  token: string;
  caHash: string;
  l1Port: number;
  l2Port: number;
}

/**
 * The line an operator pastes on a new machine. Every value is a plain token (names are
 * validated, the token is base64url, the hash is hex), so no shell quoting is needed.
 */
export function installCommand(input: InstallCommandInput): string {
  const parts = [
    "runos register",
    `--server ${input.host}`,
    `--aid ${input.aid}`,
    `--token ${input.token}`,
    `--ca-hash ${input.caHash}`,
  ];
  if (input.l1Port !== defaultL1Port) parts.push(`--l1-port ${input.l1Port}`);
  if (input.l2Port !== defaultL2Port) parts.push(`--l2-port ${input.l2Port}`);
  return parts.join(" ");
}
