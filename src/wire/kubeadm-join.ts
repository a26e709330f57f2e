import { RunosError } from "../common/errors.js";

/** A parsed `kubeadm join` line: the only shape either side accepts (no other flags, no shell). */
export interface JoinLine {
  endpoint: string;
  token: string;
  caCertHash: string;
  certificateKey?: string;
}

const bootstrapToken = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const caHash = /^sha256:[a-f0-9]{64}$/;
const certificateKey = /^[a-f0-9]{64}$/;
const endpoint = /^(\d{1,3}(\.\d{1,3}){3}|[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?):\d{1,5}$/;

/**
 * Parses what `kubeadm token create --print-join-command` prints (plus `--control-plane
 * --certificate-key K` for a control plane). Anything else, and any malformed value, is refused.
 */
export function parseJoinLine(line: string): JoinLine {
  const words = line
    .trim()
    .replace(/\\\s*\n/g, " ")
    .split(/\s+/);
  const refuse = (why: string): never => {
    throw new RunosError("NA_INVALID_INPUT", `malformed kubeadm join line: ${why}`);
  };
  if (words[0] !== "kubeadm" || words[1] !== "join") refuse('it does not start with "kubeadm join"');
  const target = words[2] ?? "";
  if (!endpoint.test(target)) refuse("the API endpoint is not host:port");
  const parsed: Partial<JoinLine> = { endpoint: target };
  let controlPlane = false;
  for (let i = 3; i < words.length; i++) {
    const flag = words[i];
    const value = () => {
      const v = words[++i];
      if (v === undefined) refuse(`${flag} has no value`);
      return v as string;
    };
    switch (flag) {
      case "--token":
        parsed.token = value();
        if (!bootstrapToken.test(parsed.token))
          refuse("the token is not a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})");
        break;
      case "--discovery-token-ca-cert-hash":
        parsed.caCertHash = value();
        if (!caHash.test(parsed.caCertHash)) refuse("the CA hash is not sha256:<64 hex>");
        break;
      case "--control-plane":
        controlPlane = true;
        break;
      case "--certificate-key":
        parsed.certificateKey = value();
        if (!certificateKey.test(parsed.certificateKey))
          refuse("the certificate key is not 64 hex characters");
        break;
      default:
        refuse(`unexpected argument "${flag}"`);
    }
  }
  if (!parsed.token || !parsed.caCertHash) refuse("it lacks --token or --discovery-token-ca-cert-hash");
  if (controlPlane !== (parsed.certificateKey !== undefined))
    refuse("--control-plane and --certificate-key come together or not at all");
  return parsed as JoinLine;
}

export function formatJoinLine(join: JoinLine): string {
  const cp = join.certificateKey ? ` --control-plane --certificate-key ${join.certificateKey}` : "";
  return `kubeadm join ${join.endpoint} --token ${join.token} --discovery-token-ca-cert-hash ${join.caCertHash}${cp}`;
}

/** The secrets-encryption key: base64 of exactly 32 bytes. */
export function isEncryptionKey(value: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(value) && Buffer.from(value, "base64").length === 32;
}
