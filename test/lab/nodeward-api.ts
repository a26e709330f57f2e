// nodeward's HTTP API from the VM, through a relay into the nodeward lab host, with the admin
// token: cheaper than a CLI call (a Node start-up each) for tests that poll or act often.
import { request } from "node:http";
import { exec, exposeHostPort } from "../../lab/index.js";
import type { RunosLab } from "../../lab/runos-cluster.js";

export interface LabApi {
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
  setRole(nid: string, role: "control-plane" | "worker"): Promise<unknown>;
  /** POST /nodes/:nid/instructions: the agent's answer. */
  instruct<T>(nid: string, type: string, payload: unknown): Promise<T>;
  online(nid: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function openNodewardApi(lab: RunosLab): Promise<LabApi> {
  const host = lab.nodewardHost.host;
  const relay = await exposeHostPort(host, { ip: "127.0.0.1", port: 8080 });
  const token = (await exec(host, ["cat", "/var/lib/nodeward/admin.token"])).stdout.trim();
  const call = <T>(method: string, path: string, body?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const req = request(
        {
          socketPath: relay.socketPath,
          path: `/api${path}`,
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        },
        (res) => {
          let text = "";
          res.on("data", (d) => {
            text += d;
          });
          res.on("end", () =>
            (res.statusCode ?? 500) < 300
              ? resolve(JSON.parse(text) as T)
              : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`)),
          );
        },
      );
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  return {
    call,
    setRole: (nid, role) => call("PUT", `/nodes/${nid}/role`, { role }),
    instruct: (nid, type, payload) =>
      call("POST", `/nodes/${nid}/instructions`, { type, payload, timeoutSeconds: 10 }),
    online: async (nid) => (await call<{ online?: boolean }>("GET", `/nodes/${nid}`)).online === true,
    close: async () => {
      await relay.close();
    },
  };
}
