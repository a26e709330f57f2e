/** The nodeward HTTP API calls the benchmarks make, with the admin bearer token. */
export interface ApiClient {
  createToken(request: { aid: string; cluster: string; ttlSeconds: number; uses: number }): Promise<string>;
  instruction(nid: string, type: string, payload: unknown, timeoutSeconds: number): Promise<{ type: string }>;
  /** Nodes that are not deleted or replaced. */
  listNodes(): Promise<{ nid: string; aid: string; cluster: string }[]>;
  deleteNode(nid: string): Promise<void>;
  /** GET /api/status; its event-loop delay covers the time since the previous read. */
  status(): Promise<NodewardStatus>;
}

export interface NodewardStatus {
  sessions: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number; sinceMs: number };
  handshakes: { l2: { started: number; queued: number; dropped: number } } | null;
}

export function apiClient(base: string, adminToken: string): ApiClient {
  async function call(method: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }
  return {
    async createToken(request) {
      const grant = (await call("POST", "/api/tokens", request, 10_000)) as { token: string };
      return grant.token;
    },
    async instruction(nid, type, payload, timeoutSeconds) {
      const path = `/api/nodes/${encodeURIComponent(nid)}/instructions`;
      return (await call("POST", path, { type, payload, timeoutSeconds }, (timeoutSeconds + 5) * 1000)) as {
        type: string;
      };
    },
    async listNodes() {
      const list = (await call("GET", "/api/nodes", undefined, 30_000)) as {
        nodes: { nid: string; aid: string; cluster: string }[];
      };
      return list.nodes;
    },
    async deleteNode(nid) {
      await call("DELETE", `/api/nodes/${encodeURIComponent(nid)}`, undefined, 30_000);
    },
    async status() {
      return (await call("GET", "/api/status", undefined, 10_000)) as NodewardStatus;
    },
  };
}
