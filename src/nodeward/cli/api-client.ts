import { isErrorCode } from "../../common/error-codes.js";
import { errorMessage, RunosError } from "../../common/errors.js";
import { readAdminToken } from "../ca/admin-token.js";
import type { CliIo } from "./io.js";

export interface OperatorOptions {
  api: string;
  dataDir: string;
}

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown, timeoutMs?: number): Promise<T>;
  delete<T>(path: string): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
}

/** The admin token: NODEWARD_TOKEN, else `<data-dir>/admin.token`. */
export async function operatorToken(options: OperatorOptions, env: CliIo["env"]): Promise<string> {
  if (env.NODEWARD_TOKEN?.trim()) return env.NODEWARD_TOKEN.trim();
  let token: string | undefined;
  try {
    token = await readAdminToken(options.dataDir);
  } catch (err) {
    throw new RunosError(
      "NA_UNAUTHORIZED",
      `cannot read the admin token in ${options.dataDir}: ${errorMessage(err)}`,
      {
        hint: "run as the user that runs nodeward (often root), or set NODEWARD_TOKEN",
      },
    );
  }
  if (!token) {
    throw new RunosError("NA_UNAUTHORIZED", `no admin token found in ${options.dataDir}`, {
      hint: "pass --data-dir of the running nodeward, or set NODEWARD_TOKEN",
    });
  }
  return token;
}

export async function connectApi(options: OperatorOptions, env: CliIo["env"]): Promise<ApiClient> {
  const token = await operatorToken(options, env);
  const base = options.api.replace(/\/+$/, "");
  async function call<T>(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      throw new RunosError(
        "NA_UNREACHABLE",
        `cannot reach the nodeward API at ${base}: ${errorMessage(cause ?? err)}`,
        {
          hint: "is `nodeward serve` running? Point --api at its HTTP address",
        },
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      throw new RunosError("NA_INTERNAL", `the API answered ${response.status} with a body that is not JSON`);
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } }).error;
      const code = error?.code && isErrorCode(error.code) ? error.code : "NA_INTERNAL";
      throw new RunosError(code, error?.message ?? `the API answered ${response.status}`);
    }
    return parsed as T;
  }
  return {
    get: (path) => call("GET", path),
    post: (path, body, timeoutMs) => call("POST", path, body, timeoutMs),
    delete: (path) => call("DELETE", path),
    put: (path, body) => call("PUT", path, body),
  };
}
