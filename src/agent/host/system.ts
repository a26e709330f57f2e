import { networkInterfaces, hostname as osHostname } from "node:os";
import { agentVersion } from "../version.js";

/** Read-only facts about the machine, cheap enough for every heartbeat (no external look-ups). */
export interface SystemPort {
  hostname(): string;
  agentVersion(): string;
  uptimeSeconds(): number;
  /** First IPv4 on the interface, or "" when the interface or address is absent. */
  interfaceIpv4(name: string): string;
}

export function createSystemPort(): SystemPort {
  const startedAt = Date.now();
  return {
    hostname: () => osHostname(),
    agentVersion: () => agentVersion,
    uptimeSeconds: () => Math.round((Date.now() - startedAt) / 1000),
    interfaceIpv4: (name) => networkInterfaces()[name]?.find((a) => a.family === "IPv4")?.address ?? "",
  };
}
