import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeadmPort } from "../../../src/agent/host/kubeadm.js";
import type { HandlerContext } from "../../../src/agent/instructions/define.js";
import { getClusterJoinCmd } from "../../../src/agent/instructions/get-cluster-join-cmd.js";
import { RunosError } from "../../../src/common/errors.js";
import { createLogger } from "../../../src/common/log.js";
import { GetClusterJoinCmd } from "../../../src/wire/instructions/get-cluster-join-cmd.js";
import { createFakeHost } from "./fake-host.js";

const hash = `sha256:${"ab".repeat(32)}`;
const key = Buffer.alloc(32, 3).toString("base64");

function setup(kubeadm?: KubeadmPort) {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", destination: { write: (s: string) => void lines.push(s) } });
  const calls: { controlPlane: boolean; ttl: string }[] = [];
  const ctx = {
    tag: "t",
    node: () => ({ nid: "n-1", ip: "198.18.0.11" }),
    log,
    signal: new AbortController().signal,
    host: createFakeHost({
      kubeadm: kubeadm ?? {
        async joinLine(options) {
          calls.push(options);
          return {
            endpoint: "127.0.0.1:6446",
            token: "abcdef.0123456789abcdef",
            caCertHash: hash,
            ...(options.controlPlane ? { certificateKey: "cd".repeat(32) } : {}),
          };
        },
        encryptionKey: () => key,
      },
    }),
  } as unknown as HandlerContext;
  return { ctx, calls, lines };
}

describe("GET_CLUSTER_JOIN_CMD", () => {
  test("a worker join line from a short-lived token; nothing secret in the log", async () => {
    const { ctx, calls, lines } = setup();
    const answer = await getClusterJoinCmd.handle({ asCp: false }, ctx);
    assert.deepEqual(answer, {
      type: "CLUSTER_JOIN_CMD",
      payload: {
        joinCmd: `kubeadm join 127.0.0.1:6446 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash}`,
      },
    });
    assert.deepEqual(calls, [{ controlPlane: false, ttl: "30m" }]);
    assert.ok(!lines.join("").includes("0123456789abcdef"));
    // the answer fits the contract's schema
    GetClusterJoinCmd.answers.CLUSTER_JOIN_CMD.parse((answer as { payload: unknown }).payload);
  });

  test("a control plane gets the certificate key and the cluster's encryption key", async () => {
    const { ctx } = setup();
    const answer = (await getClusterJoinCmd.handle({ asCp: true }, ctx)) as {
      payload: { joinCmd: string; encryptionKey: string };
    };
    assert.match(answer.payload.joinCmd, / --control-plane --certificate-key (cd){32}$/);
    assert.equal(answer.payload.encryptionKey, key);
  });

  test("a node that is not a control plane answers ERROR with the reason, never an empty line", async () => {
    const { ctx } = setup({
      joinLine: async () => {
        throw new RunosError(
          "NA_NOT_FOUND",
          "this node is not a control plane (no /etc/kubernetes/admin.conf)",
        );
      },
      encryptionKey: () => key,
    });
    await assert.rejects(getClusterJoinCmd.handle({ asCp: false }, ctx), /not a control plane/);
  });

  test("the payload is validated at the edge", () => {
    assert.throws(() => GetClusterJoinCmd.payload.parse({ asCp: "yes; reboot" }));
  });
});
