import { createHash, X509Certificate } from "node:crypto";

/** The first PEM block of a given label, or undefined. */
export function firstPemBlock(pem: string, label = "CERTIFICATE"): string | undefined {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`);
  const match = re.exec(pem);
  return match ? `${match[0]}\n` : undefined;
}

/** `sha256:<hex>` of a certificate's DER: the form a token pins (as k3s does). */
export function certificateHash(pem: string): string {
  const der = new X509Certificate(pem).raw;
  return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}

export function derHash(der: Uint8Array): string {
  return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}

/** Accepts `sha256:HEX`, `SHA256:HEX` or bare hex; returns `sha256:hex` or undefined if malformed. */
export function normaliseHash(value: string): string | undefined {
  const hex = value
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, "");
  return /^[0-9a-f]{64}$/.test(hex) ? `sha256:${hex}` : undefined;
}
