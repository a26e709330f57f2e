import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  expandCommand,
  parseEnvironmentFile,
  parseServiceUnit,
  splitWords,
} from "../../../src/agent/services/unit-file.js";
import { kubeletDropIn, kubeletUnit } from "../../../src/nodeward/recipes/kubernetes/configs.js";

describe("systemd unit subset (runos service)", () => {
  test("the kubelet unit and kubeadm's drop-in give kubelet's command line with kubeadm's flags", () => {
    const unit = parseServiceUnit("kubelet", [kubeletUnit(), kubeletDropIn()]);
    assert.equal(unit.restart, "always");
    assert.equal(unit.restartSec, 2);
    assert.deepEqual(unit.environmentFiles, [
      { path: "/var/lib/kubelet/kubeadm-flags.env", optional: true },
      { path: "/etc/default/kubelet", optional: true },
    ]);
    const env = {
      ...unit.environment,
      ...parseEnvironmentFile(
        'KUBELET_KUBEADM_ARGS="--node-ip=172.24.1.1 --pod-infra-container-image=registry.k8s.io/pause:3.10.1"\n',
      ),
    };
    assert.deepEqual(expandCommand(unit.execStart, env), [
      "/usr/local/bin/kubelet",
      "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
      "--kubeconfig=/etc/kubernetes/kubelet.conf",
      "--config=/var/lib/kubelet/config.yaml",
      "--node-ip=172.24.1.1",
      "--pod-infra-container-image=registry.k8s.io/pause:3.10.1",
    ]);
  });

  test("the kubelet waits for kubeadm's flags file (ConditionPathExists in [Unit])", () => {
    const unit = parseServiceUnit("kubelet", [kubeletUnit(), kubeletDropIn()]);
    assert.deepEqual(unit.conditionPaths, ["/var/lib/kubelet/kubeadm-flags.env"]);
    assert.throws(
      () => parseServiceUnit("x", ["[Unit]\nConditionPathExists=!/a\n[Service]\nExecStart=/b\n"]),
      /negated/,
    );
  });

  test("before kubeadm has run, the unset variables vanish instead of leaving empty words", () => {
    const unit = parseServiceUnit("kubelet", [kubeletUnit(), kubeletDropIn()]);
    const argv = expandCommand(unit.execStart, unit.environment);
    assert.ok(!argv.includes(""));
    assert.equal(argv.length, 4);
  });

  test("a braced variable inside a word is substituted, not split", () => {
    const braced = "--x=$" + "{A}"; // systemd's syntax, not a template literal
    assert.deepEqual(expandCommand([braced, "$A"], { A: "1 2" }), ["--x=1 2", "1", "2"]);
  });

  test("a unit without ExecStart, an unsupported Restart= or a bad RestartSec= is refused", () => {
    assert.throws(() => parseServiceUnit("x", ["[Service]\nRestart=always\n"]), /no ExecStart/);
    assert.throws(
      () => parseServiceUnit("x", ["[Service]\nExecStart=/bin/true\nRestart=on-abnormal\n"]),
      /not supported/,
    );
    assert.throws(
      () => parseServiceUnit("x", ["[Service]\nExecStart=/bin/true\nRestartSec=soon\n"]),
      /seconds/,
    );
  });

  test("keys outside [Service] and comments are ignored; an empty ExecStart= resets", () => {
    const unit = parseServiceUnit("x", [
      "[Unit]\nExecStart=/bad\n[Service]\n# c\nExecStart=/a\n",
      "[Service]\nExecStart=\nExecStart=/b x\n",
    ]);
    assert.deepEqual(unit.execStart, ["/b", "x"]);
  });

  test("quotes group words; an unbalanced quote is an error", () => {
    assert.deepEqual(splitWords(`a "b c" 'd e'f`), ["a", "b c", "d ef"]);
    assert.throws(() => splitWords(`a "b`), /unbalanced/);
  });
});
