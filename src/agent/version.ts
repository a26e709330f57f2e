import { readFileSync } from "node:fs";

/** The agent version: package.json's, unless a release build injects RUNOS_VERSION. */
export const agentVersion: string = (() => {
  if (process.env.RUNOS_VERSION) return process.env.RUNOS_VERSION.replace(/^v/, "");
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "dev";
  } catch {
    return "dev";
  }
})();
