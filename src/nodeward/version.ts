import { readFileSync } from "node:fs";

/** The nodeward version: package.json's, unless a release build injects NODEWARD_VERSION. */
export const nodewardVersion: string = (() => {
  if (process.env.NODEWARD_VERSION) return process.env.NODEWARD_VERSION.replace(/^v/, "");
  try {
    const url = new URL("../../package.json", import.meta.url);
    const pkg = JSON.parse(readFileSync(url, "utf8")) as { version?: string };
    return pkg.version ?? "dev";
  } catch {
    return "dev";
  }
})();

/**
 * What this control plane understands beyond the original contract, announced in
 * RUNOS_NODEWARD_HELLO (names shared with the agent's list): `hello` (this exchange),
 * `csr-enrolment` (Register with a CSR, field 1000), `cert-rotation` (RegenerateCertificate with a
 * CSR, old certificate valid for a grace period), `heartbeat-v2` (nodeIp/vpnIp/hostname are stored),
 * `cp-endpoints-push` (control-plane endpoint changes are pushed; agents poll only as a safety net).
 */
export const nodewardCapabilities: readonly string[] = [
  "hello",
  "csr-enrolment",
  "cert-rotation",
  "heartbeat-v2",
  "cp-endpoints-push",
  "peers-delta",
  "peers-full-state",
  "wg1-users",
];
