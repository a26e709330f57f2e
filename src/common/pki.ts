import "reflect-metadata";
import {
  createPrivateKey,
  generateKeyPairSync,
  X509Certificate as NodeX509,
  randomBytes,
  webcrypto,
} from "node:crypto";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";
import { RunosError } from "./errors.js";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const subtle = webcrypto.subtle;
const ecdsa = { name: "ECDSA", namedCurve: "P-256" } as const;
const ecdsaSha256 = { name: "ECDSA", hash: "SHA-256" } as const;

/** The SAN URI that names a node in its client certificate. */
export function nodeUri(nid: string): string {
  return `spiffe://runos/node/${nid}`;
}

export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

export interface IssuedCert {
  certPem: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

async function exportPkcs8Pem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ format: "der", type: "pkcs8" });
  return subtle.importKey("pkcs8", der, ecdsa, false, ["sign"]);
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive INTEGER
  return bytes.toString("hex");
}

/** A self-signed ECDSA P-256 CA, valid for `years`. */
export async function createCa(commonName: string, years = 10): Promise<KeyAndCert> {
  const keys = (await subtle.generateKey(ecdsa, true, ["sign", "verify"])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${commonName}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + years * 365 * 24 * 3600 * 1000),
    keys,
    signingAlgorithm: ecdsaSha256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportPkcs8Pem(keys.privateKey) };
}

export class CertificateAuthority {
  private constructor(
    readonly certPem: string,
    private readonly caCert: x509.X509Certificate,
    private readonly signingKey: CryptoKey,
  ) {}

  static async load(ca: KeyAndCert): Promise<CertificateAuthority> {
    return new CertificateAuthority(
      ca.certPem,
      new x509.X509Certificate(ca.certPem),
      await importSigningKey(ca.keyPem),
    );
  }

  private async issue(options: {
    subject: string;
    publicKey: x509.PublicKeyType;
    ttlMs: number;
    sans: x509.JsonGeneralName[];
    usage: "client" | "server";
  }): Promise<IssuedCert> {
    const serial = randomSerial();
    const notBefore = new Date(Date.now() - 60_000); // tolerate small clock skew
    const notAfter = new Date(Date.now() + options.ttlMs);
    const publicKey =
      options.publicKey instanceof x509.PublicKey
        ? options.publicKey
        : new x509.PublicKey(options.publicKey as ArrayBuffer);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject: options.subject,
      issuer: this.caCert.subject,
      notBefore,
      notAfter,
      publicKey: await publicKey.export(publicKeyAlgorithm(publicKey), ["verify"]),
      signingKey: this.signingKey,
      signingAlgorithm: ecdsaSha256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension(
          options.usage === "client"
            ? [x509.ExtendedKeyUsage.clientAuth]
            : [x509.ExtendedKeyUsage.serverAuth],
        ),
        new x509.SubjectAlternativeNameExtension(options.sans),
        await x509.AuthorityKeyIdentifierExtension.create(this.caCert),
      ],
    });
    return { certPem: cert.toString("pem"), serial, notBefore, notAfter };
  }

  /** Signs a node's CSR after checking its self-signature; the node's key never leaves the node. */
  async signNodeCsr(csrPem: string, nid: string, ttlMs: number): Promise<IssuedCert> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (err) {
      throw new RunosError("NA_INVALID_INPUT", "the CSR is not a valid PEM PKCS#10 request", { cause: err });
    }
    if (!(await csr.verify())) throw new RunosError("NA_INVALID_INPUT", "the CSR signature does not verify");
    return this.issue({
      subject: `CN=${nid}`,
      publicKey: csr.publicKey,
      ttlMs,
      sans: [{ type: "url", value: nodeUri(nid) }],
      usage: "client",
    });
  }

  /**
   * The original contract's path: the server makes the key and returns it (PKCS#1 RSA, as the
   * original agent parses it). Kept for compatibility with agents that send no CSR.
   */
  async issueNodeKeyAndCert(nid: string, ttlMs: number): Promise<IssuedCert & { keyPem: string }> {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const spki = publicKey.export({ format: "der", type: "spki" });
    const issued = await this.issue({
      subject: `CN=${nid}`,
      publicKey: new x509.PublicKey(spki),
      ttlMs,
      sans: [{ type: "url", value: nodeUri(nid) }],
      usage: "client",
    });
    return { ...issued, keyPem: privateKey.export({ format: "pem", type: "pkcs1" }).toString() };
  }

  /** A server certificate for the given DNS names and IP addresses. */
  async issueServerCert(hosts: string[], ttlMs: number): Promise<KeyAndCert & IssuedCert> {
    const keys = (await subtle.generateKey(ecdsa, true, ["sign", "verify"])) as CryptoKeyPair;
    const sans: x509.JsonGeneralName[] = [...new Set(hosts)].map((host) =>
      isIP(host) ? { type: "ip", value: host } : { type: "dns", value: host },
    );
    const issued = await this.issue({
      subject: `CN=${hosts[0] ?? "nodeward"}`,
      publicKey: new x509.PublicKey(await subtle.exportKey("spki", keys.publicKey)),
      ttlMs,
      sans,
      usage: "server",
    });
    return { ...issued, keyPem: await exportPkcs8Pem(keys.privateKey) };
  }
}

function publicKeyAlgorithm(
  key: x509.PublicKey,
): webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams {
  const alg = key.algorithm as Algorithm & { namedCurve?: string };
  if (alg.name === "ECDSA" || alg.name === "EC")
    return { name: "ECDSA", namedCurve: alg.namedCurve ?? "P-256" };
  return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
}

/** Made on the node: an ECDSA P-256 key (PKCS#8 PEM) and a CSR for it. */
export async function generateNodeKeyAndCsr(commonName: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await subtle.generateKey(ecdsa, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: ecdsaSha256,
  });
  return { keyPem: await exportPkcs8Pem(keys.privateKey), csrPem: csr.toString("pem") };
}

export interface CertificateInfo {
  serial: string;
  subjectCn: string;
  nid: string | undefined;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
}

/** Reads what runos needs from a PEM certificate (node:crypto; no key material involved). */
export function certificateInfo(pem: string): CertificateInfo {
  let cert: NodeX509;
  try {
    cert = new NodeX509(pem);
  } catch (err) {
    throw new RunosError("NA_CERT_INVALID", "the certificate is not valid PEM", { cause: err });
  }
  const cn = /CN=([^\n,]+)/.exec(cert.subject)?.[1] ?? "";
  const uri = /URI:spiffe:\/\/runos\/node\/([^,\s]+)/.exec(cert.subjectAltName ?? "")?.[1];
  return {
    serial: cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, ""),
    subjectCn: cn,
    nid: uri ?? (cn || undefined),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprint256: cert.fingerprint256,
  };
}

/** Normalises a hex serial the way certificateInfo does, for lookups. */
export function normaliseSerial(serial: string): string {
  return serial.toLowerCase().replace(/^0+(?=.)/, "");
}
