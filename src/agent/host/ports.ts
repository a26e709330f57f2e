import type { EtcdPort } from "./etcd.js";
import type { HaproxyPort } from "./haproxy.js";
import type { KubePort } from "./kube.js";
import type { KubeadmPort } from "./kubeadm.js";
import type { PeerStore } from "./peer-store.js";
import type { RoutesPort } from "./routes.js";
import type { SystemPort } from "./system.js";
import type { VipPort } from "./vip.js";
import type { WireGuardPort } from "./wireguard.js";

/** Every side effect the agent has on its machine, one port per subsystem. */
export interface HostPorts {
  kube: KubePort;
  system: SystemPort;
  wireguard: WireGuardPort;
  peerStore: PeerStore;
  routes: RoutesPort;
  /** Optional so hosts built elsewhere (bench) still type-check; the agent and CLI always set it. */
  etcd?: EtcdPort;
  /** The control-plane VIP (`ip addr`, `arping`); optional like etcd, the agent always sets it. */
  vip?: VipPort;
  /** The local Kubernetes API load balancer (port 6446); optional like etcd, the agent always sets it. */
  haproxy?: HaproxyPort;
  /** Join lines and the encryption key on a control plane; optional like etcd. */
  kubeadm?: KubeadmPort;
}
