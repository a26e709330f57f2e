import { sleep } from "../common/clock.js";
import { errorMessage, RunosError } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import { certificateInfo } from "../common/pki.js";
import type { Heartbeat } from "../wire/messages.js";
import { runConnection } from "./daemon/connection.js";
import { acquireAgentLock } from "./daemon/lock.js";
import { type ConnectionEndReason, ReconnectPolicy } from "./daemon/reconnect-policy.js";
import type { Session } from "./daemon/session.js";
import { DaemonStateFile } from "./daemon/state.js";
import { configuredEtcdPort } from "./etcd/settings.js";
import { type Exec, execArgv } from "./host/exec.js";
import { createHaproxyPort } from "./host/haproxy.js";
import { createKubePort, type KubeFacts } from "./host/kube.js";
import { createKubeadmPort } from "./host/kubeadm.js";
import type { Paths } from "./host/paths.js";
import { createPeerStore, peersByKey } from "./host/peer-store.js";
import type { HostPorts } from "./host/ports.js";
import { createRoutesPort } from "./host/routes.js";
import { createSystemPort } from "./host/system.js";
import { createVipPort } from "./host/vip.js";
import { createVipStateStore } from "./host/vip-state.js";
import { createWireGuardPort } from "./host/wireguard.js";
import { type AgentConfig, detectNodeIp, isRegistered, loadConfig } from "./identity/config.js";
import { type IdentityPaths, identityPaths, readIdentity, tightenKeyMode } from "./identity/files.js";
import { msUntilRenewal, renewCertificate } from "./identity/renewal.js";
import type { InstructionHandler } from "./instructions/define.js";
import { createHandlerRegistry } from "./instructions/index.js";
import { createKubeApiRuntime } from "./kubeproxy/runtime.js";
import { createL2Client } from "./link/clients.js";
import { endpointFromConfig } from "./link/endpoints.js";
import { agentVersion } from "./version.js";
import { createVipRuntime } from "./vip/runtime.js";
import { syncVpn } from "./vpn/sync.js";

export interface AgentDeps {
  paths: Paths;
  log: Logger;
  exec?: Exec;
  host?: HostPorts;
  handlers?: InstructionHandler[];
  random?: () => number;
}

export interface Agent {
  /** Runs until the signal aborts; throws only for start-up preconditions. */
  run(signal: AbortSignal): Promise<void>;
}

/** The agent's composition root: the binary, the tests and the lab all wire it the same way. */
export function createAgent(deps: AgentDeps): Agent {
  const { paths, log } = deps;
  const exec = deps.exec ?? execArgv;
  const host: HostPorts = deps.host ?? {
    kube: createKubePort(paths, exec),
    system: createSystemPort(),
    wireguard: createWireGuardPort(paths, exec),
    peerStore: createPeerStore(paths),
    routes: createRoutesPort(exec),
    etcd: configuredEtcdPort(paths, exec),
    vip: createVipPort(exec),
    haproxy: createHaproxyPort(paths, exec),
    kubeadm: createKubeadmPort(paths, exec),
  };
  const registry = createHandlerRegistry(deps.handlers);

  return {
    async run(signal) {
      let config = loadConfig(paths);
      if (!isRegistered(config)) {
        throw new RunosError("NA_NOT_REGISTERED", "this node is not registered", {
          hint: "run `runos register --server HOST --aid ACCOUNT --token TOKEN`",
        });
      }
      const files = identityPaths(paths, config);
      await readIdentity(files); // fail fast with a clear message if anything is missing
      const release = acquireAgentLock(paths.lockFile);
      try {
        await tightenKeyMode(files);
        const state = new DaemonStateFile(paths.stateFile, {
          pid: process.pid,
          version: agentVersion,
          startedAt: new Date().toISOString(),
          connected: false,
          reconnects: 0,
          nodewardCapabilities: [],
        });
        await renewIfExpired(paths, config, log);
        // The API load balancer first: the stored backends go back at once, even without a control plane.
        const kubeApi = host.haproxy
          ? createKubeApiRuntime({
              haproxy: host.haproxy,
              paths,
              log,
              capabilities: () => state.state.nodewardCapabilities,
            })
          : undefined;
        await reapplyPersistedPeers(host, log);
        await syncVpnAtStart(config, files, host, log);
        log.info({ version: agentVersion, nid: config.node.nid }, "Starting RunOS Node Agent");
        await supervise();

        async function supervise(): Promise<void> {
          const reconnect = new ReconnectPolicy({ random: deps.random });
          const facts = createFactsCache(host, log);
          let current: Session | undefined;
          const vip = createVipRuntime({
            port: host.vip ?? createVipPort(exec),
            state: createVipStateStore(paths),
            settings: () => ({ iface: config.vip.interface, address: config.vip.address }),
            log: log.child({ component: "vip" }),
            session: () => current,
          });
          const renewal = scheduleRenewal(() => current?.close("recycle"));
          try {
            while (!signal.aborted) {
              config = loadConfig(paths);
              const startedAt = Date.now();
              let reason: ConnectionEndReason;
              let retryAfterMs = 0;
              try {
                reason = await runConnection(
                  {
                    endpoint: endpointFromConfig(config),
                    identity: await readIdentity(files),
                    dispatch: {
                      handlers: registry,
                      context: {
                        host,
                        signal,
                        vip: vip.keeper,
                        node: () => ({ nid: config.node.nid, ip: config.node.ip || detectNodeIp() }),
                      },
                      log: log.child({ component: "dispatch" }),
                    },
                    log: log.child({ component: "session" }),
                    heartbeatIntervalMs: config.agent["heartbeat-interval"] * 1000,
                    heartbeatPayload: () => heartbeatPayload(config, host, facts.current()),
                    onSessionStart: (session) => {
                      current = session;
                      kubeApi?.sessionStarted(session);
                      void state.update({
                        connected: true,
                        sessionSince: new Date().toISOString(),
                        lastError: undefined,
                      });
                    },
                    onHeartbeat: (ok) => {
                      vip.onHeartbeat(ok);
                      if (ok) void state.update({ lastHeartbeatAt: new Date().toISOString() }, 30_000);
                    },
                    onHello: (capabilities) => void state.update({ nodewardCapabilities: capabilities }),
                    onVipHolder: vip.onHolderAnswer,
                    onRetryAfter: (ms) => {
                      retryAfterMs = ms;
                    },
                  },
                  signal,
                );
              } catch (err) {
                reason = "dial_failed";
                vip.onDialFailed();
                log.warn({ err: errorMessage(err) }, "connection failed");
                await state.update({ lastError: errorMessage(err) });
              }
              current = undefined;
              await state.update({ connected: false });
              if (signal.aborted) break;
              const delay = reconnect.delayAfter({ reason, livedMs: Date.now() - startedAt, retryAfterMs });
              if (delay === 0) continue; // new certificate ("recycle"): redial at once
              await state.update({
                reconnects: state.state.reconnects + 1,
                nextRetryAt: new Date(Date.now() + delay).toISOString(),
              });
              log.info({ backoff: delay, reason }, "Connection to Nodeward lost; reconnecting after backoff");
              await sleep(delay, signal);
            }
          } finally {
            renewal.stop();
            facts.stop();
            kubeApi?.stop();
          }
          log.info("Agent terminated");
        }

        /** Renews at the configured fraction of the lifetime, in the running agent. */
        function scheduleRenewal(recycle: () => void): { stop(): void } {
          let timer: NodeJS.Timeout | undefined;
          let stopped = false;
          const plan = async () => {
            if (stopped) return;
            let wait = 3_600_000;
            try {
              const info = certificateInfo((await readIdentity(files)).certPem);
              const fraction = loadConfig(paths).agent["renew-at-fraction"];
              const due = msUntilRenewal(info, Date.now(), fraction);
              await state.update({
                certificateSerial: info.serial,
                certificateRenewAt: new Date(Date.now() + due).toISOString(),
              });
              if (due === 0) {
                await renewCertificate(paths, log.child({ component: "renewal" }));
                recycle();
                wait = 1_000;
              } else {
                wait = Math.min(due, 3_600_000);
              }
            } catch (err) {
              log.warn({ err: errorMessage(err) }, "certificate renewal failed; will retry");
              wait = 60_000;
            }
            if (!stopped) timer = setTimeout(() => void plan(), wait);
          };
          void plan();
          return {
            stop() {
              stopped = true;
              if (timer) clearTimeout(timer);
            },
          };
        }
      } finally {
        release();
      }
    },
  };
}

/** The overlay must not wait for the control plane: the last desired peers go back at once. */
async function reapplyPersistedPeers(host: HostPorts, log: Logger): Promise<void> {
  const stored = await host.peerStore.load("wg0");
  if (!stored || !host.wireguard.interfaceExists("wg0")) return;
  try {
    const result = await host.wireguard.applyPeers("wg0", stored.peers, {
      removeOthers: stored.fullState,
      previous: peersByKey(stored.peers),
    });
    log.info({ ...result, peers: stored.peers.length }, "re-applied persisted VPN peers");
  } catch (err) {
    log.warn({ err: errorMessage(err) }, "re-applying persisted VPN peers failed");
  }
}

/** Spec 3.1 step 4: pull peers once at start; failure is only a warning (they may be stale). */
async function syncVpnAtStart(
  config: AgentConfig,
  files: IdentityPaths,
  host: HostPorts,
  log: Logger,
): Promise<void> {
  if (!host.wireguard.interfaceExists("wg0")) return;
  const client = createL2Client(endpointFromConfig(config), await readIdentity(files));
  try {
    await syncVpn(client, host, { ip: config.node.ip || detectNodeIp() }, log);
  } catch (err) {
    log.warn({ err: errorMessage(err) }, "VPN peer sync at start failed; peers may be stale");
  } finally {
    client.close();
  }
}

/** An expired certificate cannot open L2Sec; fail start-up clearly if renewal cannot fix it. */
async function renewIfExpired(paths: Paths, config: AgentConfig, log: Logger): Promise<void> {
  const info = certificateInfo((await readIdentity(identityPaths(paths, config))).certPem);
  if (info.notAfter.getTime() > Date.now()) return;
  try {
    await renewCertificate(paths, log);
  } catch (err) {
    throw new RunosError(
      "NA_CERT_INVALID",
      `mTLS certificate expired on ${info.notAfter.toISOString()} and automatic renewal failed: ${errorMessage(err)}`,
      { hint: "register the node again with a new token" },
    );
  }
}

function heartbeatPayload(config: AgentConfig, host: HostPorts, facts: KubeFacts): Heartbeat {
  return {
    externalIpAddress: config.node["external-ip"],
    isCp: facts.isCp,
    isWorker: facts.isWorker,
    status: facts.status,
    version: agentVersion,
    nodeIp: config.node.ip || detectNodeIp(),
    vpnIp: host.system.interfaceIpv4("wg0"),
    hostname: host.system.hostname(),
  };
}

/** Kubernetes facts refreshed in the background every 10 s (one HTTPS GET), so heartbeats never wait on the API. */
function createFactsCache(host: HostPorts, log: Logger): { current(): KubeFacts; stop(): void } {
  let facts: KubeFacts = { installed: false, isCp: false, isWorker: false, status: "not_installed" };
  const refresh = () =>
    host.kube
      .facts(host.system.hostname())
      .then((next) => {
        facts = next;
      })
      .catch((err) => log.debug({ err: errorMessage(err) }, "kubernetes facts unavailable"));
  void refresh();
  const timer = setInterval(() => void refresh(), 10_000);
  timer.unref();
  return { current: () => facts, stop: () => clearInterval(timer) };
}
