import { existsSync, readFileSync } from "node:fs";
import { RunosError } from "../../common/errors.js";
import { formatJoinLine, isEncryptionKey, type JoinLine, parseJoinLine } from "../../wire/kubeadm-join.js";
import type { Exec } from "./exec.js";
import type { Paths } from "./paths.js";

/** What a control plane hands out so that another node can join the cluster. */
export interface KubeadmPort {
  /** A fresh bootstrap token's join line (short-lived); with a certificate key for a control plane. */
  joinLine(options: { controlPlane: boolean; ttl: string }): Promise<JoinLine>;
  /** The cluster's secrets-encryption key, as the install list wrote it. */
  encryptionKey(): string;
}

const adminConf = "/etc/kubernetes/admin.conf";
const clusterConfig = "/etc/kubernetes/kubeadm/cluster.yaml";
const keyFile = "/etc/kubernetes/enc/key.txt";

export function createKubeadmPort(paths: Paths, exec: Exec): KubeadmPort {
  const kubeadm = () =>
    ["/usr/local/bin/kubeadm", "/usr/bin/kubeadm"].map((p) => paths.onRoot(p)).find((p) => existsSync(p));
  const run = async (args: string[], what: string) => {
    const binary = kubeadm();
    if (!binary) throw new RunosError("NA_NOT_FOUND", "kubeadm is not installed on this node");
    const result = await exec({ argv: [binary, ...args], timeoutMs: 60_000 });
    if (result.exitCode !== 0) {
      const tail = `${result.stderr}\n${result.stdout}`.trim().split("\n").slice(-3).join(" | ");
      throw new RunosError(
        "NA_KUBEADM",
        `${what} failed: ${tail || `exit ${result.exitCode ?? result.signal}`}`,
      );
    }
    return result.stdout;
  };
  return {
    async joinLine({ controlPlane, ttl }) {
      if (!existsSync(paths.onRoot(adminConf)))
        throw new RunosError(
          "NA_NOT_FOUND",
          "this node is not a control plane (no /etc/kubernetes/admin.conf)",
        );
      let certificateKey: string | undefined;
      if (controlPlane) {
        const out = await run(
          [
            "init",
            "phase",
            "upload-certs",
            "--upload-certs",
            "--config",
            paths.onRoot(clusterConfig),
            "--kubeconfig",
            paths.onRoot(adminConf),
          ],
          "kubeadm init phase upload-certs",
        );
        certificateKey = out
          .trim()
          .split("\n")
          .filter((l) => l.trim() !== "")
          .pop()
          ?.trim();
      }
      const printed = await run(
        ["token", "create", "--print-join-command", "--ttl", ttl, "--kubeconfig", paths.onRoot(adminConf)],
        "kubeadm token create",
      );
      const line =
        printed
          .trim()
          .split("\n")
          .filter((l) => l.startsWith("kubeadm join"))
          .pop() ?? "";
      const join = parseJoinLine(line);
      return controlPlane ? parseJoinLine(formatJoinLine({ ...join, certificateKey })) : join;
    },
    encryptionKey() {
      let key: string;
      try {
        key = readFileSync(paths.onRoot(keyFile), "utf8").trim();
      } catch {
        throw new RunosError(
          "NA_NOT_FOUND",
          `${keyFile} is missing: this control plane has no secrets-encryption key`,
        );
      }
      if (!isEncryptionKey(key))
        throw new RunosError("NA_INVALID_INPUT", `${keyFile} does not hold a 32-byte base64 key`);
      return key;
    },
  };
}
