// The lab's public surface for tests, the demo and bench: `import { ... } from "../../lab/index.js"`.
export {
  DEFAULT_HOSTS,
  type HostSpec,
  LAN_SEGMENT_NAMES,
  type LanSegmentName,
  ROUTER_NAMES,
  ROUTER_PLANS,
  ROUTER_PUBLIC_IPS,
  type RouterPlan,
  SEGMENT_NAMES,
  SEGMENTS,
  type Segment,
  type SegmentName,
  SWITCH_NAME,
} from "./address-plan.js";
export {
  downAll,
  downHost,
  type ExecOptions,
  type ExitStatus,
  exec,
  execOk,
  type HostStatus,
  hostStatus,
  type LabProcess,
  listHostNames,
  type SpawnOptions,
  spawn,
  type UpOptions,
  upHost,
} from "./host.js";
export { cgroupRootOf, KUBEADM_PATCH_DIR, prepareKubernetesHost } from "./kube-host.js";
export { isAlive } from "./ns-procs.js";
export { ensurePackages, LAB_PACKAGES } from "./packages.js";
export { hostPath, LAB_PREFIX, type LabHost, labHost, PRIVATE_PATHS, STATE_DIR } from "./paths.js";
export { killAllSpawnedSync } from "./process.js";
export { exposeHostPort, exposeVmPort, type Relay } from "./relay.js";
export { LabCommandError, type RunResult, sleep, waitFor } from "./run.js";
export { onTerminationSignal, tearDownOnSignal } from "./signals.js";
export {
  addTopologyHost,
  createTopology,
  DEFAULT_PREFIX,
  destroyTopology,
  loadTopology,
  type Router,
  removeTopologyHost,
  type Topology,
  type TopologyHost,
  type TopologyOptions,
  topologyHost,
  topologyRouter,
  topologyRouters,
} from "./topology.js";
