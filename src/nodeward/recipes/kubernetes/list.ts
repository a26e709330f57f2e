import { RunosError } from "../../../common/errors.js";
import type { InstallCommand } from "../wireguard.js";
import {
  cniConfig,
  containerdConfig,
  containerdUnit,
  controlPlaneConfig,
  encryptionConfig,
  encryptionDir,
  initConfig,
  type JoinData,
  joinConfig,
  kubeadmDir,
  kubeletDropIn,
  kubeletPatch,
  kubeletUnit,
  type NodeConfigInput,
  podNatRules,
  sysctlConfig,
} from "./configs.js";
import { podNetwork } from "./network.js";
import { q, writeFile } from "./shell.js";

/** Where the Kubernetes packages come from. */
export type PackageSource =
  | {
      /** nodeward's own bundle (air-gapped): every file verified by its sha256 before use. */
      kind: "bundle";
      /** e.g. http://nodeward:9190/bundles/v1.34.4 */
      baseUrl: string;
      files: Readonly<Record<string, string>>;
      images: readonly string[];
    }
  | { kind: "online" };

export type KubernetesRole = "init" | "control-plane" | "worker";

export interface KubernetesListInput extends NodeConfigInput {
  role: KubernetesRole;
  source: PackageSource;
  /** Joining nodes: from GET_CLUSTER_JOIN_CMD on a healthy control plane. */
  join?: JoinData;
  /** Joining control planes: the cluster's secrets-encryption key (base64 of 32 bytes). */
  encryptionKey?: string;
  /**
   * `runos`: the agent has `runos service` and `runos preflight --kubernetes` (capability
   * `kubernetes-lists`). `original`: the original agent, whose machines run systemd.
   */
  agent?: "runos" | "original";
}

const strict = (command: string): InstallCommand => ({ command, ignoreFailure: false });
const status = (text: string) => strict(`echo STATUS_UPDATE:${text}`);
const progress = (percent: number) => strict(`echo PROGRESS_UPDATE:${percent}%`);

export const stateDir = "/var/lib/runos/kubernetes";
const binDir = "/usr/local/bin";
const cniBinDir = "/opt/cni/bin";

/** What every node takes from a bundle (plus its cni/ plugins). */
export const nodeBundleFiles: readonly string[] = [
  "bin/kubeadm",
  "bin/kubelet",
  "bin/kubectl",
  "bin/containerd",
  "bin/containerd-shim-runc-v2",
  "bin/ctr",
  "bin/runc",
  "images/pause.tar",
  "images/kube-proxy.tar",
];
/** What control planes take on top. */
export const controlPlaneBundleFiles: readonly string[] = [
  "bin/etcdctl",
  "images/kube-apiserver.tar",
  "images/kube-controller-manager.tar",
  "images/kube-scheduler.tar",
  "images/etcd.tar",
];

/** The files a node of this role takes from the bundle. */
export function bundleFilesFor(role: KubernetesRole, files: Readonly<Record<string, string>>): string[] {
  const wanted = [
    ...nodeBundleFiles,
    ...(role === "worker" ? [] : controlPlaneBundleFiles),
    ...Object.keys(files).filter((f) => f.startsWith("cni/")),
  ];
  if (files["images/coredns.tar"]) wanted.push("images/coredns.tar");
  const missing = wanted.filter((f) => !files[f]);
  if (missing.length > 0)
    throw new RunosError("NA_NOT_FOUND", `the Kubernetes bundle lacks ${missing.join(", ")}`, {
      hint: "import a complete bundle: nodeward bundle import DIR",
    });
  return wanted;
}

/** One bundle file into `dir` (the staging dir on a node), checked against its sha256. */
export function fetchVerified(
  baseUrl: string,
  file: string,
  sha256: string,
  dir = `${stateDir}/bundle`,
): string {
  const dest = `${dir}/${file}`;
  // A file already there with the right sum is kept; anything else is fetched again and checked
  // before it is moved into place, so a half download or a tampered file is never used.
  return [
    `f=${q(dest)}; sum=${q(sha256)}`,
    `if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then`,
    `  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" ${q(`${baseUrl}/${file}`)}`,
    `  got=$(sha256sum "$f.part" | cut -d' ' -f1)`,
    `  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for ${file}: expected $sum, got $got" >&2; exit 1; fi`,
    `  mv "$f.part" "$f"`,
    "fi",
  ].join("\n");
}

/** Every file fetched and checked into the staging dir, before anything on the host changes. */
function fetchBundle(
  input: KubernetesListInput,
  source: Extract<PackageSource, { kind: "bundle" }>,
): InstallCommand[] {
  return bundleFilesFor(input.role, source.files).map((f) =>
    strict(fetchVerified(source.baseUrl, f, source.files[f] as string)),
  );
}

function installFromBundle(
  input: KubernetesListInput,
  source: Extract<PackageSource, { kind: "bundle" }>,
): InstallCommand[] {
  const files = bundleFilesFor(input.role, source.files);
  const bins = files.filter((f) => f.startsWith("bin/")).map((f) => q(`${stateDir}/bundle/${f}`));
  const plugins = files.filter((f) => f.startsWith("cni/")).map((f) => q(`${stateDir}/bundle/${f}`));
  return [
    strict(`install -d -m 0755 ${binDir} && install -m 0755 ${bins.join(" ")} ${binDir}/`),
    strict(`install -d -m 0755 ${cniBinDir} && install -m 0755 ${plugins.join(" ")} ${cniBinDir}/`),
  ];
}

function packagesOnline(input: KubernetesListInput): InstallCommand[] {
  const minor = input.kubernetesVersion.replace(/^v(\d+\.\d+)\..*$/, "v$1");
  const patch = input.kubernetesVersion.replace(/^v/, "");
  const apt = "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120";
  return [
    strict(
      `install -d -m 0755 /etc/apt/keyrings && curl -fsSL ${q(`https://pkgs.k8s.io/core:/stable:/${minor}/deb/Release.key`)} -o /tmp/kubernetes-release.key` +
        " && gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg /tmp/kubernetes-release.key" +
        " && chmod 0644 /etc/apt/keyrings/kubernetes-apt-keyring.gpg",
    ),
    strict(
      writeFile(
        "/etc/apt/sources.list.d/kubernetes.list",
        `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/${minor}/deb/ /\n`,
      ),
    ),
    strict(`${apt} update`),
    strict(
      `apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1; ${apt} install -y kubelet=${q(`${patch}-*`)} kubeadm=${q(`${patch}-*`)} kubectl=${q(`${patch}-*`)} kubernetes-cni containerd runc` +
        " && apt-mark hold kubelet kubeadm kubectl",
    ),
    // The packages put the binaries in /usr/bin; the units below name /usr/local/bin.
    strict(
      `for b in kubeadm kubelet kubectl containerd containerd-shim-runc-v2 ctr runc; do [ -x /usr/local/bin/$b ] || ln -sf /usr/bin/$b /usr/local/bin/$b; done`,
    ),
  ];
}

/** Starts or restarts a unit: through `runos service` (systemd or not), or systemctl for the original agent. */
function service(input: KubernetesListInput, verb: "start" | "restart", name: string): string {
  if (input.agent === "original")
    return `systemctl daemon-reload && systemctl enable ${name} && systemctl ${verb} ${name}`;
  return `runos service ${verb} ${name}`;
}

/** The host facts the configs depend on, as shell variables set at the start of a command. */
const cgroupDriverFact =
  "if [ -d /run/systemd/system ]; then CGROUP_DRIVER=systemd; else CGROUP_DRIVER=cgroupfs; fi";
const containerdFacts = [
  "if [ -d /run/systemd/system ]; then SYSTEMD_CGROUP=true; else SYSTEMD_CGROUP=false; fi",
  // Without CAP_SYS_RESOURCE (some containers and sandboxes) no process may lower oom_score_adj;
  // containerd then keeps every pod's adjustment at or above its own instead of failing them.
  "capbnd=$(awk '/^CapBnd/ {print $2}' /proc/self/status); if [ $(( 0x$capbnd >> 24 & 1 )) -eq 1 ]; then RESTRICT_OOM=false; else RESTRICT_OOM=true; fi",
].join("\n");

/**
 * The Kubernetes install list for one node. Every step can run again after a failure: files are
 * written whole and renamed, services are started idempotently, kubeadm runs only when its work
 * is not done and resets a half-done attempt first.
 */
export function kubernetesInstallCommands(input: KubernetesListInput): InstallCommand[] {
  if (input.role !== "init" && !input.join)
    throw new RunosError("NA_INTERNAL", "a joining node needs join data");
  if (input.role === "control-plane" && (!input.join?.certificateKey || !input.encryptionKey))
    throw new RunosError(
      "NA_INTERNAL",
      "a joining control plane needs a certificate key and the encryption key",
    );
  const isControlPlane = input.role !== "worker";
  const kubeconfig = isControlPlane ? "/etc/kubernetes/admin.conf" : "/etc/kubernetes/kubelet.conf";
  const skipCoreDns = input.source.kind === "bundle" && !input.source.files["images/coredns.tar"];
  const images =
    input.source.kind === "bundle"
      ? bundleFilesFor(input.role, input.source.files).filter((f) => f.startsWith("images/"))
      : [];
  const commands: InstallCommand[] = [
    status("CHECKING_NODE"),
    strict(
      input.agent === "original"
        ? "runos preflight"
        : `runos preflight --kubernetes --role ${input.role === "worker" ? "worker" : "control-plane"}`,
    ),
    progress(5),
    // A bundle is fetched and verified first: a bad file stops the list before the host changes.
    ...(input.source.kind === "bundle"
      ? [status("FETCHING_KUBERNETES_BUNDLE"), ...fetchBundle(input, input.source)]
      : []),
    status("PREPARING_HOST"),
    // kubelet refuses to run with swap on; comment swap lines out so it stays off after a reboot.
    strict(
      "swapoff -a && if grep -qE '^[^#][^[:space:]]*[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]' /etc/fstab 2>/dev/null; then" +
        " sed -ri.runos-bak '/^[[:space:]]*#/! s/^([^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]].*)$/#\\1/' /etc/fstab; fi",
    ),
    strict(
      `${writeFile("/etc/modules-load.d/kubernetes.conf", "overlay\nbr_netfilter\n")}\n` +
        // Built into some kernels (no module to load): probe what the module provides instead.
        "grep -qw overlay /proc/filesystems || modprobe overlay\n[ -d /proc/sys/net/bridge ] || modprobe br_netfilter",
    ),
    strict(
      `${writeFile("/etc/sysctl.d/99-kubernetes.conf", sysctlConfig())}\nsysctl -q -p /etc/sysctl.d/99-kubernetes.conf`,
    ),
    progress(10),
    status("INSTALLING_KUBERNETES_PACKAGES"),
    ...(input.source.kind === "bundle" ? installFromBundle(input, input.source) : packagesOnline(input)),
    progress(40),
    status("CONFIGURING_CONTAINERD"),
    strict(writeFile("/etc/systemd/system/containerd.service", containerdUnit())),
    strict(
      `${containerdFacts}\n${writeFile("/etc/containerd/config.toml.wanted", containerdConfig(input.pauseImage), { vars: ["RESTRICT_OOM", "SYSTEMD_CGROUP"] })}\n` +
        `if cmp -s /etc/containerd/config.toml.wanted /etc/containerd/config.toml; then rm -f /etc/containerd/config.toml.wanted; ${service(input, "start", "containerd")};` +
        ` else mv /etc/containerd/config.toml.wanted /etc/containerd/config.toml && ${service(input, "restart", "containerd")}; fi`,
    ),
    strict(
      "for _ in $(seq 60); do ctr version >/dev/null 2>&1 && exit 0; sleep 1; done; echo 'containerd did not answer on /run/containerd/containerd.sock within 60 s' >&2; exit 1",
    ),
    ...images.map((f) =>
      strict(
        `ctr -n k8s.io images import --all-platforms --label io.cri-containerd.pinned=pinned ${q(`${stateDir}/bundle/${f}`)}`,
      ),
    ),
    progress(55),
    status("CONFIGURING_KUBELET"),
    strict(writeFile("/etc/systemd/system/kubelet.service", kubeletUnit())),
    strict(writeFile("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", kubeletDropIn())),
    // It starts once kubeadm has written its flags (the unit's ConditionPathExists).
    strict(service(input, "start", "kubelet")),
    strict(
      `${cgroupDriverFact}\n${writeFile(`${input.patchDir}/kubeletconfiguration0runos+merge.yaml`, kubeletPatch(), { vars: ["CGROUP_DRIVER"] })}`,
    ),
    status("CONFIGURING_POD_NETWORK"),
    strict(writeFile("/etc/cni/net.d/10-runos.conflist", cniConfig(input.podCidr))),
    strict(`ip route replace ${podNetwork} dev wg0`),
    strict(
      `${writeFile(`${stateDir}/pod-nat.nft`, podNatRules(input.podCidr))}\nnft -f ${q(`${stateDir}/pod-nat.nft`)}`,
    ),
    progress(60),
  ];

  if (isControlPlane) {
    const secret =
      input.role === "init"
        ? // First control plane: made here, once; joining control planes get exactly this key.
          `install -d -m 0700 ${encryptionDir} && { [ -s ${encryptionDir}/key.txt ] || head -c 32 /dev/urandom | base64 > ${encryptionDir}/key.txt; } && chmod 0600 ${encryptionDir}/key.txt\nENC_SECRET=$(tr -d '\\n' < ${encryptionDir}/key.txt)`
        : `install -d -m 0700 ${encryptionDir}\nENC_SECRET=${q(input.encryptionKey as string)}\nprintf '%s' "$ENC_SECRET" > ${encryptionDir}/key.txt.new && chmod 0600 ${encryptionDir}/key.txt.new && mv ${encryptionDir}/key.txt.new ${encryptionDir}/key.txt`;
    commands.push(
      status("CONFIGURING_SECRETS_ENCRYPTION"),
      strict(
        `${secret}\n${writeFile(`${encryptionDir}/encryption-config.yaml`, encryptionConfig(), { mode: "0600", vars: ["ENC_SECRET"] })}`,
      ),
      // Any control plane can upload certificates for the next one with this file.
      strict(writeFile(`${kubeadmDir}/cluster.yaml`, controlPlaneConfig(input), { mode: "0600" })),
    );
  }

  // kubeadm talks to the API through the node-local HAProxy the agent runs (127.0.0.1:6446).
  commands.push(
    strict(
      "for _ in $(seq 120); do curl -sk -o /dev/null --max-time 2 https://127.0.0.1:6446/; rc=$?; [ $rc -ne 7 ] && exit 0; sleep 1; done;" +
        " echo 'the API load balancer on 127.0.0.1:6446 is not running (is the runos agent up and does nodeward know a control plane?)' >&2; exit 1",
    ),
  );

  if (input.role === "init") {
    commands.push(
      status("INITIALISING_CONTROL_PLANE"),
      strict(`${writeFile(`${kubeadmDir}/init.yaml`, initConfig(input, skipCoreDns), { mode: "0600" })}`),
      strict(
        "if [ -f /etc/kubernetes/admin.conf ] && kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw /readyz >/dev/null 2>&1; then echo 'kubeadm init: already done'; exit 0; fi\n" +
          // A half-done init (manifests or certificates but no healthy API) is reset, then retried.
          "if [ -e /etc/kubernetes/manifests/kube-apiserver.yaml ] || [ -e /etc/kubernetes/pki/ca.crt ]; then kubeadm reset -f >/dev/null 2>&1; rm -rf /var/lib/etcd/member; fi\n" +
          `kubeadm init --config ${kubeadmDir}/init.yaml`,
      ),
    );
  } else {
    commands.push(
      status(input.role === "worker" ? "JOINING_AS_WORKER" : "JOINING_AS_CONTROL_PLANE"),
      strict(
        `${writeFile(`${kubeadmDir}/join.yaml`, joinConfig(input, input.join as JoinData), { mode: "0600" })}`,
      ),
      strict(
        "if [ -f /etc/kubernetes/kubelet.conf ] && kubectl --kubeconfig /etc/kubernetes/kubelet.conf get --raw /readyz >/dev/null 2>&1; then echo 'kubeadm join: already done'; exit 0; fi\n" +
          "if [ -e /etc/kubernetes/kubelet.conf ] || [ -e /etc/kubernetes/pki/ca.crt ]; then kubeadm reset -f >/dev/null 2>&1; rm -rf /var/lib/etcd/member; fi\n" +
          `kubeadm join --config ${kubeadmDir}/join.yaml`,
      ),
    );
  }
  if (isControlPlane) {
    commands.push(
      strict(
        "install -d -m 0700 /root/.kube && install -m 0600 /etc/kubernetes/admin.conf /root/.kube/config",
      ),
      // The break-glass system:masters credential does not stay where every tool looks.
      strict(
        "if [ -f /etc/kubernetes/super-admin.conf ]; then install -d -m 0700 /etc/kubernetes/break-glass && mv /etc/kubernetes/super-admin.conf /etc/kubernetes/break-glass/; fi",
      ),
    );
  }
  commands.push(
    progress(90),
    status("WAITING_FOR_NODE_READY"),
    strict(
      // The kubelet registers its Node a moment after kubeadm returns; `wait` needs it to exist.
      `for _ in $(seq 60); do kubectl --kubeconfig ${kubeconfig} get ${q(`node/${input.nodeName}`)} >/dev/null 2>&1 && break; sleep 2; done\n` +
        `kubectl --kubeconfig ${kubeconfig} wait --for=condition=Ready ${q(`node/${input.nodeName}`)} --timeout=300s`,
    ),
    progress(100),
    status("KUBERNETES_READY"),
  );
  return commands;
}
