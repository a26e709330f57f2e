import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { connect, type PeerCertificate } from "node:tls";
import { RunosError } from "../../common/errors.js";
import { certificateHash, derHash, normaliseHash } from "../../common/pem.js";
import type { ControlPlaneEndpoint } from "./endpoints.js";

export interface L1TrustInput {
  endpoint: ControlPlaneEndpoint;
  /** Path of the L1Sec CA file the installer may have placed. */
  caFile: string;
  /** `sha256:<hex>` of the CA certificate's DER (from the token / install command). */
  caHash?: string;
  /** Original semantics: SHA-256 of the CA file's bytes (config mtls.public-ca-sha256). */
  fileBytesSha256?: string;
  timeoutMs?: number;
}

export interface L1Trust {
  caPem: string;
  source: "file" | "pinned-hash";
}

/**
 * Decides which CA to trust for enrolment BEFORE any token is sent: the CA file if present
 * (checked against the pins given), otherwise the CA the server presents in its chain, accepted
 * only if its hash matches the pin. Anything else is refused.
 */
export async function resolveL1Trust(input: L1TrustInput): Promise<L1Trust> {
  const pin = input.caHash === undefined || input.caHash === "" ? undefined : normaliseHash(input.caHash);
  if (input.caHash && !pin) {
    throw new RunosError(
      "NA_INVALID_INPUT",
      `--ca-hash must be sha256:<64 hex digits>, got "${input.caHash}"`,
    );
  }
  const filePem = await readFile(input.caFile, "utf8").catch(() => undefined);
  if (filePem !== undefined) {
    if (input.fileBytesSha256) {
      const want = input.fileBytesSha256
        .trim()
        .toLowerCase()
        .replace(/^sha256:/, "");
      const got = createHash("sha256").update(filePem).digest("hex");
      if (want !== got) {
        throw new RunosError(
          "NA_CA_MISMATCH",
          `the L1Sec CA file ${input.caFile} does not match mtls.public-ca-sha256`,
        );
      }
    }
    if (pin && certificateHash(filePem) !== pin) {
      throw new RunosError("NA_CA_MISMATCH", `the L1Sec CA file ${input.caFile} does not match --ca-hash`, {
        hint: "remove the stale CA file or use the install command from this control plane",
      });
    }
    return { caPem: filePem, source: "file" };
  }
  if (!pin) {
    throw new RunosError(
      "NA_CA_MISMATCH",
      `no way to trust the control plane: ${input.caFile} is missing and no --ca-hash was given`,
      {
        hint: "copy the install command from `nodeward token create`, which carries --ca-hash",
      },
    );
  }
  return {
    caPem: await fetchPinnedCa(input.endpoint, pin, input.timeoutMs ?? 10_000),
    source: "pinned-hash",
  };
}

/** Opens a TLS connection only to read the presented chain; nothing is sent over it. */
function fetchPinnedCa(endpoint: ControlPlaneEndpoint, pin: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: endpoint.host,
      port: endpoint.l1Port,
      servername: isIP(endpoint.host) ? undefined : endpoint.host,
      rejectUnauthorized: false, // verified below against the pin, before any use
      timeout: timeoutMs,
    });
    const fail = (err: RunosError) => {
      socket.destroy();
      reject(err);
    };
    socket.on("timeout", () =>
      fail(new RunosError("NA_UNREACHABLE", `timed out reaching ${endpoint.host}:${endpoint.l1Port}`)),
    );
    socket.on("error", (err) =>
      fail(
        new RunosError("NA_UNREACHABLE", `cannot reach ${endpoint.host}:${endpoint.l1Port}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    socket.on("secureConnect", () => {
      const match = chainOf(socket.getPeerCertificate(true)).find((cert) => derHash(cert.raw) === pin);
      if (!match) {
        fail(
          new RunosError(
            "NA_CA_MISMATCH",
            `the server at ${endpoint.host}:${endpoint.l1Port} does not present the pinned CA`,
            {
              hint: "check --server and --ca-hash; someone may be intercepting the connection",
            },
          ),
        );
        return;
      }
      socket.end();
      const b64 = match.raw.toString("base64").replace(/(.{64})/g, "$1\n");
      resolve(`-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`);
    });
  });
}

function chainOf(leaf: PeerCertificate): PeerCertificate[] {
  const chain: PeerCertificate[] = [];
  let current: PeerCertificate | undefined = leaf;
  while (current?.raw && !chain.includes(current)) {
    chain.push(current);
    const issuer: PeerCertificate | undefined = (current as { issuerCertificate?: PeerCertificate })
      .issuerCertificate;
    if (!issuer || issuer === current) break;
    current = issuer;
  }
  return chain;
}
