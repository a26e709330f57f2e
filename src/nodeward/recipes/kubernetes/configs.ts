import { stringify } from "yaml";
import { podMtu, podNetwork, serviceSubnet } from "./network.js";

/** Everything the rendered files depend on; every value is validated before it gets here. */
export interface NodeConfigInput {
  kubernetesVersion: string;
  nodeName: string;
  /** wg0 address: node IP, advertise address, etcd peer address. */
  nodeIp: string;
  clusterName: string;
  /** The control-plane VIP (a SAN, for off-node admin access). */
  vip: string;
  podCidr: string;
  pauseImage: string;
  /** Pods' images come only from the bundle: never pull. */
  airGapped: boolean;
  /** Lab- or site-specific kubeadm patches (kubeletconfiguration, static pods). */
  patchDir: string;
}

export const controlPlaneEndpoint = "127.0.0.1:6446";
export const kubeadmDir = "/etc/kubernetes/kubeadm";
export const encryptionDir = "/etc/kubernetes/enc";
export const criSocket = "unix:///run/containerd/containerd.sock";

const yamlDocs = (...docs: object[]) => docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");

function nodeRegistration(input: NodeConfigInput) {
  return {
    name: input.nodeName,
    criSocket,
    imagePullPolicy: input.airGapped ? "Never" : "IfNotPresent",
    kubeletExtraArgs: [{ name: "node-ip", value: input.nodeIp }],
  };
}

/** ClusterConfiguration: shared by init and by `upload-certs` on any control plane later. */
export function clusterConfiguration(input: NodeConfigInput): object {
  return {
    apiVersion: "kubeadm.k8s.io/v1beta4",
    kind: "ClusterConfiguration",
    kubernetesVersion: input.kubernetesVersion,
    clusterName: input.clusterName,
    controlPlaneEndpoint,
    // Pod ranges are assigned per node by runos (network.ts), so kube-controller-manager allocates none.
    networking: { serviceSubnet, dnsDomain: "cluster.local" },
    apiServer: {
      certSANs: [input.vip, "127.0.0.1", "localhost"],
      extraArgs: [{ name: "encryption-provider-config", value: `${encryptionDir}/encryption-config.yaml` }],
      extraVolumes: [
        {
          name: "runos-encryption",
          hostPath: encryptionDir,
          mountPath: encryptionDir,
          readOnly: true,
          pathType: "DirectoryOrCreate",
        },
      ],
    },
    etcd: { local: { dataDir: "/var/lib/etcd" } },
  };
}

/**
 * The node's own kubelet settings, as a kubeadm patch: a joining node's kubelet configuration comes
 * from the cluster (kubeadm's kubelet-config ConfigMap), so a per-node value must be a patch.
 * systemd where it is PID 1, cgroupfs elsewhere: a shell variable the install list sets.
 */
export function kubeletPatch(): string {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: expanded by the node's shell, not here
  return "cgroupDriver: ${CGROUP_DRIVER}\n";
}

/**
 * cluster.yaml on every control plane: enough for `kubeadm init phase upload-certs` there later
 * (an InitConfiguration with this node's address, else kubeadm looks for a default route).
 */
export function controlPlaneConfig(input: NodeConfigInput): string {
  return yamlDocs(
    {
      apiVersion: "kubeadm.k8s.io/v1beta4",
      kind: "InitConfiguration",
      localAPIEndpoint: { advertiseAddress: input.nodeIp, bindPort: 6443 },
      nodeRegistration: { name: input.nodeName, criSocket },
    },
    clusterConfiguration(input),
  );
}

/**
 * kube-proxy in nftables mode gives Services their ClusterIPs (no Cilium here). Conntrack sizing
 * and timeouts stay the host's: some of those sysctls are read-only outside the init netns.
 */
function kubeProxyConfiguration(): object {
  return {
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    mode: "nftables",
    clusterCIDR: podNetwork,
    conntrack: { maxPerCore: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
  };
}

/** init.yaml for the first control plane. */
export function initConfig(input: NodeConfigInput, skipCoreDns: boolean): string {
  return yamlDocs(
    {
      apiVersion: "kubeadm.k8s.io/v1beta4",
      kind: "InitConfiguration",
      localAPIEndpoint: { advertiseAddress: input.nodeIp, bindPort: 6443 },
      nodeRegistration: nodeRegistration(input),
      patches: { directory: input.patchDir },
      ...(skipCoreDns ? { skipPhases: ["addon/coredns"] } : {}),
      timeouts: { controlPlaneComponentHealthCheck: "4m0s", kubeletHealthCheck: "4m0s" },
    },
    clusterConfiguration(input),
    kubeProxyConfiguration(),
  );
}

export interface JoinData {
  token: string;
  caCertHash: string;
  /** Only for a control plane. */
  certificateKey?: string;
}

/** join.yaml for a worker or (with certificateKey) an additional control plane. */
export function joinConfig(input: NodeConfigInput, join: JoinData): string {
  return yamlDocs({
    apiVersion: "kubeadm.k8s.io/v1beta4",
    kind: "JoinConfiguration",
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: controlPlaneEndpoint,
        token: join.token,
        caCertHashes: [join.caCertHash],
      },
      tlsBootstrapToken: join.token,
    },
    nodeRegistration: nodeRegistration(input),
    patches: { directory: input.patchDir },
    ...(join.certificateKey
      ? {
          controlPlane: {
            localAPIEndpoint: { advertiseAddress: input.nodeIp, bindPort: 6443 },
            certificateKey: join.certificateKey,
          },
        }
      : {}),
    timeouts: { discovery: "5m0s", tlsBootstrap: "5m0s" },
  });
}

/** Written whole (never sed on a generated default); the two host-dependent values are shell variables. */
export function containerdConfig(pauseImage: string): string {
  return `version = 3
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = '${pauseImage}'
[plugins.'io.containerd.cri.v1.images'.registry]
  config_path = '/etc/containerd/certs.d'
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = \${RESTRICT_OOM}
[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = 'runc'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  SystemdCgroup = \${SYSTEMD_CGROUP}
[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ['/opt/cni/bin']
  conf_dir = '/etc/cni/net.d'
`;
}

export function containerdUnit(): string {
  return `[Unit]
Description=containerd container runtime (installed by runos)
After=network.target local-fs.target

[Service]
ExecStart=/usr/local/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
`;
}

export function kubeletUnit(): string {
  return `[Unit]
Description=kubelet: the Kubernetes node agent (installed by runos)
Wants=network-online.target
After=network-online.target containerd.service wg-quick@wg0.service
# kubeadm writes this last, then restarts the kubelet: before that a kubelet has nothing to run.
ConditionPathExists=/var/lib/kubelet/kubeadm-flags.env

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=2

[Install]
WantedBy=multi-user.target
`;
}

/** The drop-in kubeadm expects (the packages ship the same): its flags file, then the site's. */
export function kubeletDropIn(): string {
  return `[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;
}

/** A bridge per node with its own range; other nodes' pods are reached through wg0 (routes + allowed IPs). */
export function cniConfig(podCidr: string): string {
  return `${JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "runos",
      plugins: [
        {
          type: "bridge",
          bridge: "runos0",
          isGateway: true,
          ipMasq: false,
          mtu: podMtu,
          hairpinMode: true,
          ipam: { type: "host-local", ranges: [[{ subnet: podCidr }]], routes: [{ dst: "0.0.0.0/0" }] },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

/** Pods reach anything outside the pod network masqueraded; pod-to-pod keeps its addresses. */
export function podNatRules(podCidr: string): string {
  return `table ip runos_pods
delete table ip runos_pods
table ip runos_pods {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${podCidr} ip daddr != ${podNetwork} masquerade
  }
}
`;
}

export function encryptionConfig(): string {
  return `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: ["secrets"]
    providers:
      - secretbox:
          keys:
            - name: key1
              secret: \${ENC_SECRET}
      - identity: {}
`;
}

export function sysctlConfig(): string {
  return `net.ipv4.ip_forward = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
fs.inotify.max_user_instances = 8192
fs.inotify.max_user_watches = 524288
`;
}
