import { isIP } from "node:net";
import type { AgentConfig } from "../identity/config.js";

export interface ControlPlaneEndpoint {
  host: string;
  l1Port: number;
  l2Port: number;
}

export function endpointFromConfig(config: AgentConfig): ControlPlaneEndpoint {
  return {
    host: config.client.server.nodeward,
    l1Port: config.client.server["l1-port"],
    l2Port: config.client.server["l2-port"],
  };
}

/** host:port with IPv6 literals bracketed. */
export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** gRPC channel options shared by every runos dial. */
export function channelOptions(host: string): Record<string, number | string> {
  const options: Record<string, number | string> = {
    // Detect a silently dead path in ~30 s instead of after ten missed heartbeats.
    "grpc.keepalive_time_ms": 20_000,
    "grpc.keepalive_timeout_ms": 10_000,
    "grpc.keepalive_permit_without_calls": 1,
    // Deliberate: the agent dials its control plane directly; proxies are not honoured.
    "grpc.enable_http_proxy": 0,
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    // A fresh channel per dial; no subchannel sharing across reconnects with new certificates.
    "grpc.use_local_subchannel_pool": 1,
    // No DNS TXT service-config look-up: on a machine without a reachable resolver it only
    // delays process exit until the query times out (about 30 s).
    "grpc.service_config_disable_resolution": 1,
    // Inside one dial (20 s deadline) grpc-js retries the TCP/TLS connection with its own backoff,
    // which grows to 6.5 s gaps by the fifth try: after a control-plane restart most agents then
    // sat out seconds after it was back. The agent's own reconnect policy paces dials; within a
    // dial, retry every 1-4 s.
    "grpc.initial_reconnect_backoff_ms": 1_000,
    "grpc.max_reconnect_backoff_ms": 4_000,
    // grpc-js's introspection registry: never read, and it counts every message.
    "grpc.enable_channelz": 0,
  };
  if (isIP(host)) options["grpc.ssl_target_name_override"] = host;
  return options;
}
