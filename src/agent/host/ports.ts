import type { KubePort } from "./kube.js";
import type { SystemPort } from "./system.js";

/** Every side effect the agent has on its machine, one port per subsystem. */
export interface HostPorts {
  kube: KubePort;
  system: SystemPort;
}
