// A throw-away CA and etcd certificates made with openssl (argv only) for the etcd lab tests.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LabMember } from "./etcd-cluster.js";

function openssl(cwd: string, args: string[]): void {
  execFileSync("openssl", args, { cwd, stdio: "pipe" });
}

/** CA, one serverAuth+clientAuth certificate per member, and kubeadm's healthcheck-client. */
export function makePki(dir: string, members: LabMember[]): void {
  openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"]);
  openssl(dir, [
    "req",
    "-x509",
    "-new",
    "-key",
    "ca.key",
    "-subj",
    "/CN=runos-lab-etcd-ca",
    "-days",
    "1",
    "-out",
    "ca.crt",
  ]);
  const issue = (name: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`]);
    openssl(dir, ["req", "-new", "-key", `${name}.key`, "-subj", `/CN=${name}`, "-out", `${name}.csr`]);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ]);
  };
  const base = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n";
  for (const member of members) {
    issue(
      member.name,
      `${base}extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:${member.ip},DNS:localhost\n`,
    );
  }
  issue("healthcheck-client", `${base}extendedKeyUsage=clientAuth\n`);
}
