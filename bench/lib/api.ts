/** The two nodeward HTTP API calls the benchmark makes, with the admin bearer token. */
export interface ApiClient {
  createToken(request: { aid: string; cluster: string; ttlSeconds: number; uses: number }): Promise<string>;
  instruction(nid: string, type: string, payload: unknown, timeoutSeconds: number): Promise<{ type: string }>;
}

export function apiClient(base: string, adminToken: string): ApiClient {
  async function post(path: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }
  return {
    async createToken(request) {
      const grant = (await post("/api/tokens", request, 10_000)) as { token: string };
      return grant.token;
    },
    async instruction(nid, type, payload, timeoutSeconds) {
      const path = `/api/nodes/${encodeURIComponent(nid)}/instructions`;
      return (await post(path, { type, payload, timeoutSeconds }, (timeoutSeconds + 5) * 1000)) as {
        type: string;
      };
    },
  };
}
