import type { FastifyInstance } from "fastify";
import { type Clock, systemClock } from "../common/clock.js";
import { RunosError } from "../common/errors.js";
import { createLogger, type Logger } from "../common/log.js";
import type { grpc } from "../wire/grpc.js";
import { buildInstaller } from "./api/installer.js";
import type { TokenGrant } from "./api/routes-tokens.js";
import { buildApi } from "./api/server.js";
import { BundleStore } from "./bundles/bundle-store.js";
import { ControlPlaneEndpoints, withControlPlaneNodes } from "./cluster/control-plane.js";
import { Overlay } from "./cluster/overlay.js";
import { addUser, listUsers, removeUser } from "./cluster/users.js";
import { VipElection } from "./cluster/vip-election.js";
import { type NodewardConfig, resolveConfig } from "./config.js";
import { prepareDataDir } from "./data-dir.js";
import { shutdownServer } from "./grpc-server.js";
import { Admission } from "./hub/admission.js";
import { type ClusterView, overlayClusterView } from "./hub/cluster-view.js";
import { Hub } from "./hub/hub.js";
import { createL2Server } from "./hub/l2-server.js";
import { Presence } from "./hub/presence.js";
import { KubernetesOrchestrator } from "./kubernetes/orchestrator.js";
import { type GrpcListeners, listenGrpc } from "./listeners.js";
import { deleteNode } from "./registration/delete-node.js";
import { installCommand } from "./registration/install-command.js";
import { createL1Server } from "./registration/l1-server.js";
import { RegistrationLimit } from "./registration/registration-limit.js";
import { issueToken, TokenRequest } from "./registration/tokens.js";
import { runtimeStatus } from "./runtime-status.js";
import type { NodeRecord, Repository } from "./store/repository.js";
import { openSqliteRepository } from "./store/sqlite.js";
import { PeerCertificates } from "./transport/peer-certificates.js";
import { nodewardCapabilities, nodewardVersion } from "./version.js";

export interface NodewardDeps {
  config: Partial<NodewardConfig> & { dataDir: string };
  clock?: Clock;
  log?: Logger;
  /** The cluster domain's answers (VIP holder, control-plane nodes, peers); defaults to the store's. */
  clusterView?: ClusterView;
}

export interface ListeningPorts {
  l1: number;
  l2: number;
  http: number;
  /** The installer endpoint, when served. */
  installer?: number;
}

export interface Nodeward {
  readonly config: NodewardConfig;
  readonly caCertPem: string;
  /** `sha256:<hex>` of the CA certificate's DER. */
  readonly caHash: string;
  readonly adminToken: string;
  readonly store: Repository;
  readonly hub: Hub;
  readonly presence: Presence;
  /** The HTTP API; usable with `inject()` before (or without) start(). */
  readonly api: FastifyInstance;
  /** The bound ports once started, the configured ones before. */
  ports(): ListeningPorts;
  start(): Promise<ListeningPorts>;
  /** Ends agent streams, closes listeners, writes pending presence, closes the store. Idempotent. */
  stop(): Promise<void>;
  createToken(request: Partial<TokenRequest> & { aid: string; cluster: string }): Promise<TokenGrant>;
  deleteNode(nid: string, options?: { force?: boolean }): Promise<{ nid: string; revoked: number }>;
}

/**
 * The composition root: prepares the data dir (CA, server certificate, admin token, database)
 * and wires every part. Nothing listens until start().
 */
export async function createNodeward(deps: NodewardDeps): Promise<Nodeward> {
  const config = resolveConfig(deps.config);
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? createLogger({ level: config.logLevel });
  const prepared = await prepareDataDir(config.dataDir, config.hosts, clock.now(), log);
  const store = await openSqliteRepository(prepared.databasePath);
  // Late-bound: the hub tells the overlay about new streams, the overlay pushes through the hub.
  let overlay: Overlay | undefined;
  /** Told about role changes (VIP election and control-plane endpoints subscribe). */
  const roleListeners: ((node: NodeRecord) => void)[] = [];
  const presence = new Presence({
    store,
    clock,
    log: log.child({ component: "presence" }),
    offlineAfterMs: config.offlineAfterMs,
    tickMs: config.presenceTickMs,
  });
  const hubLog = log.child({ component: "hub" });
  const hub = new Hub({
    clock,
    log: hubLog,
    presence,
    queueLimit: config.sendQueueLimit,
    onOpen: (session) => overlay?.sessionOpened(session),
  });
  overlay = new Overlay({ store, hub, presence, clock, log: log.child({ component: "overlay" }) });
  const bundles = new BundleStore(config.dataDir);
  let installerPort: number | undefined;
  const kubernetes = new KubernetesOrchestrator({
    store,
    hub,
    bundles,
    clock,
    log: log.child({ component: "kubernetes" }),
    get installerUrl() {
      return (
        config.installerUrl ??
        `http://${config.hosts[0] ?? "localhost"}:${installerPort ?? config.installerPort ?? 9190}`
      );
    },
    onlineVersion: config.kubernetesVersion,
    nodeChanged: (node) => overlay?.changed(node),
  });
  const election = new VipElection({
    store,
    presence,
    connected: (nid) => hub.get(nid) !== undefined,
    request: (nid, type, payload, timeoutMs) => hub.request(nid, type, payload, timeoutMs),
    clock,
    log: log.child({ component: "vip" }),
    onHolderChanged: (ref) => overlay?.changed(ref, 0), // the VIP route moves at once, not debounced
    fenceMs: config.vipFenceMs,
  });
  roleListeners.push((node) => election.nodeChanged(node));
  presence.onChange((nid) => election.presenceChanged(nid));
  const controlPlane = new ControlPlaneEndpoints({
    store,
    hub,
    clock,
    log: log.child({ component: "control-plane" }),
    apiPort: config.kubeApiPort,
  });
  roleListeners.push((node) => controlPlane.changed(node));
  const clusterView =
    deps.clusterView ?? withControlPlaneNodes(overlayClusterView(store, overlay), controlPlane);
  const peerCertificates = new PeerCertificates();
  const identity = { store, clock, certGraceMs: config.certGraceMs, peerCertificates };

  const l1 = createL1Server(
    {
      store,
      ca: prepared.ca,
      clock,
      certTtlMs: config.certTtlMs,
      limit: new RegistrationLimit({ maxInFlight: config.maxRegistrations, maxWaiting: 1_024 }),
      log: log.child({ component: "registration" }),
      onNodesRetired: (nids, reason) => {
        for (const nid of nids) {
          hub.end(nid, reason);
          presence.forget(nid);
          election.nodeChanged(nid);
        }
        void controlPlane.retired(nids);
      },
    },
    log.child({ component: "l1" }),
  );
  const l2 = createL2Server(
    {
      ...identity,
      ca: prepared.ca,
      log: hubLog,
      hub,
      clusterView,
      certTtlMs: config.certTtlMs,
      overlay,
      kubernetes,
      stream: {
        identity,
        hub,
        log: hubLog,
        admission: new Admission({
          ratePerSecond: config.admitPerSecond,
          burst: config.admitPerSecond,
          clock,
        }),
        inbound: {
          store,
          presence,
          clusterView,
          clock,
          log: hubLog,
          version: nodewardVersion,
          capabilities: nodewardCapabilities,
          onNodeChanged: (session, why) => {
            if (why === "hello") {
              controlPlane.sessionOpened(session);
              overlay?.helloReceived(session);
              return;
            }
            // Every session's first heartbeat "reports" an address; only a different one matters.
            void store.getNode(session.nid).then(
              (node) => {
                if (node?.nodeIp !== session.reportedNodeIp) overlay?.changed(session, 1_500);
              },
              () => overlay?.changed(session, 1_500),
            );
          },
        },
      },
    },
    hubLog,
  );

  let bound: ListeningPorts | undefined;
  const ports = (): ListeningPorts =>
    bound ?? { l1: config.l1Port, l2: config.l2Port, http: config.httpPort };

  const createToken: Nodeward["createToken"] = async (input) => {
    const request = TokenRequest.parse(input);
    const issued = await issueToken(store, request, clock.now());
    const { l1: l1Port, l2: l2Port } = ports();
    return {
      token: issued.token,
      aid: issued.aid,
      cluster: issued.cluster,
      expiresAt: new Date(issued.expiresAt).toISOString(),
      uses: issued.uses,
      caHash: prepared.caHash,
      installCommand: installCommand({
        host: config.hosts[0] ?? "localhost",
        aid: issued.aid,
        token: issued.token,
        caHash: prepared.caHash,
        l1Port,
        l2Port,
      }),
    };
  };
  const removeNode = async (nid: string, options: { force?: boolean } = {}) => {
    const node = await store.getNode(nid);
    const etcd =
      node && !options.force ? await kubernetes.beforeNodeDeleted(node) : { etcdMemberRemoved: false };
    const result = { ...(await deleteNode({ store, hub, presence, clock }, nid)), ...etcd };
    if (node) await kubernetes.nodeDeleted(node);
    overlay?.forget(nid);
    if (node) overlay?.changed(node);
    if (node) election.nodeChanged(node);
    controlPlane.forget(nid);
    if (node) controlPlane.changed(node);
    return result;
  };

  let listeners: GrpcListeners | undefined;
  const status = runtimeStatus({
    sessions: () => hub.size,
    online: () => presence.onlineCount(),
    handshakes: () => listeners?.counters() ?? null,
  });
  const api = buildApi({
    status: () => status.read(),
    adminToken: prepared.adminToken,
    log: log.child({ component: "api" }),
    store,
    hub,
    presence,
    deleteNode: removeNode,
    setRole: async (nid, role) => {
      await store.setRole(nid, role);
      const node = await store.getNode(nid);
      if (node) for (const listener of roleListeners) listener(node);
    },
    createToken,
    addUser: (request) => addUser({ store, overlay: overlay as Overlay, now: clock.now() }, request),
    removeUser: (request) => removeUser({ store, overlay: overlay as Overlay }, request),
    listUsers: (cluster, aid) => listUsers(store, cluster, aid),
  });

  const installer = buildInstaller({ bundles, log: log.child({ component: "installer" }) });

  let state: "created" | "started" | "stopped" = "created";
  const started: grpc.Server[] = [];

  async function start(): Promise<ListeningPorts> {
    if (state !== "created") throw new RunosError("NA_CONFLICT", `nodeward cannot start: it is ${state}`);
    state = "started";
    try {
      listeners = await listenGrpc({ l1, l2 }, config, prepared, log, peerCertificates);
      started.push(l1, l2);
      await api.listen({ host: config.httpHost, port: config.httpPort }).catch((err: unknown) => {
        throw new RunosError(
          "NA_CONFLICT",
          `cannot listen for the API on ${config.httpHost}:${config.httpPort}`,
          {
            cause: err,
            hint: "another process may hold the port; choose another with --http-port",
          },
        );
      });
      const address = api.server.address();
      const http = typeof address === "object" && address ? address.port : config.httpPort;
      bound = { l1: listeners.l1, l2: listeners.l2, http };
      if (config.installerPort !== null) {
        await installer
          .listen({ host: config.installerHost, port: config.installerPort })
          .catch((err: unknown) => {
            throw new RunosError(
              "NA_CONFLICT",
              `cannot listen for the installer on ${config.installerHost}:${config.installerPort}`,
              {
                cause: err,
                hint: "another process may hold the port; choose another with --installer-port",
              },
            );
          });
        const at = installer.server.address();
        installerPort = typeof at === "object" && at ? at.port : config.installerPort;
        bound.installer = installerPort;
      }
      presence.start();
      log.info({ ...bound, hosts: config.hosts, caHash: prepared.caHash }, "nodeward listening");
      return bound;
    } catch (err) {
      await stop();
      throw err;
    }
  }

  async function stop(): Promise<void> {
    if (state === "stopped") return;
    state = "stopped";
    await api.close().catch((err: unknown) => log.warn({ err }, "closing the API failed"));
    await installer.close().catch((err: unknown) => log.warn({ err }, "closing the installer failed"));
    overlay?.stop();
    election.stop();
    controlPlane.stop();
    await listeners?.close();
    hub.closeAll("nodeward is shutting down");
    await Promise.all(started.map((server) => shutdownServer(server, 1_000)));
    await presence.stop();
    status.stop();
    await store.close();
    log.info("nodeward stopped");
  }

  return {
    config,
    caCertPem: prepared.caCertPem,
    caHash: prepared.caHash,
    adminToken: prepared.adminToken,
    store,
    hub,
    presence,
    api,
    ports,
    start,
    stop,
    createToken,
    deleteNode: removeNode,
  };
}
