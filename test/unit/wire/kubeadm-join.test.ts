import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatJoinLine, isEncryptionKey, parseJoinLine } from "../../../src/wire/kubeadm-join.js";

const hash = `sha256:${"0a".repeat(32)}`;
const key = "f0".repeat(32);

describe("kubeadm join lines", () => {
  test("parses what kubeadm token create --print-join-command prints, with and without a control plane", () => {
    const worker = parseJoinLine(
      `kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash} \n`,
    );
    assert.deepEqual(worker, {
      endpoint: "127.0.0.1:6446",
      token: "abcdef.0123456789abcdef",
      caCertHash: hash,
    });
    const cp = parseJoinLine(`${formatJoinLine(worker)} --control-plane --certificate-key ${key}`);
    assert.equal(cp.certificateKey, key);
    assert.equal(formatJoinLine(cp), `${formatJoinLine(worker)} --control-plane --certificate-key ${key}`);
  });

  test("kubeadm's continuation lines are accepted", () => {
    const join = parseJoinLine(
      `kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef \\\n\t--discovery-token-ca-cert-hash ${hash}`,
    );
    assert.equal(join.caCertHash, hash);
  });

  for (const [why, line] of [
    ["not kubeadm", `sh -c 'kubeadm join x'`],
    [
      "a shell metacharacter in the endpoint",
      `kubeadm join 127.0.0.1:6446;reboot --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash}`,
    ],
    ["a malformed token", `kubeadm join 127.0.0.1:6446 --token abc --discovery-token-ca-cert-hash ${hash}`],
    [
      "a malformed hash",
      "kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash md5:00",
    ],
    [
      "an extra flag",
      `kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash} --ignore-preflight-errors=all`,
    ],
    [
      "option injection",
      `kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash} --config=/etc/shadow`,
    ],
    [
      "a control plane without a key",
      `kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash} --control-plane`,
    ],
    [
      "a key without --control-plane",
      `kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash} --certificate-key ${key}`,
    ],
    ["no token", `kubeadm join 127.0.0.1:6446 --discovery-token-ca-cert-hash ${hash}`],
    ["empty", ""],
  ] as const) {
    test(`refuses ${why}`, () => {
      assert.throws(() => parseJoinLine(line), /malformed kubeadm join line/);
    });
  }

  test("the encryption key is 32 bytes of base64 and nothing else", () => {
    assert.equal(isEncryptionKey(Buffer.alloc(32, 1).toString("base64")), true);
    assert.equal(isEncryptionKey(Buffer.alloc(16, 1).toString("base64")), false);
    assert.equal(isEncryptionKey("$(reboot)"), false);
  });
});
