import type { KubePort } from "./kube.js";
import type { PeerStore } from "./peer-store.js";
import type { RoutesPort } from "./routes.js";
import type { SystemPort } from "./system.js";
import type { WireGuardPort } from "./wireguard.js";

/** Every side effect the agent has on its machine, one port per subsystem. */
export interface HostPorts {
  kube: KubePort;
  system: SystemPort;
  wireguard: WireGuardPort;
  peerStore: PeerStore;
  routes: RoutesPort;
}
