import { createReadStream } from "node:fs";
import { type FastifyInstance, fastify } from "fastify";
import type { Logger } from "../../common/log.js";
import type { BundleStore } from "../bundles/bundle-store.js";
import { body, sendError } from "./errors.js";

export interface InstallerDeps {
  bundles: BundleStore;
  log: Logger;
}

/**
 * The public installer endpoint nodes download from. It serves only files listed in an imported
 * bundle's bundle.json, and needs no credentials: every file's sha256 reaches the node in its
 * install list over mTLS, and the node checks it before using the file.
 */
export function buildInstaller(deps: InstallerDeps): FastifyInstance {
  const app = fastify({ logger: false, bodyLimit: 1024 });
  app.setErrorHandler((err, _request, reply) => sendError(reply, err, deps.log));
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(body("NA_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`)),
  );
  app.get("/healthz", async () => ({ ok: true }));
  app.get<{ Params: { version: string; "*": string } }>("/bundles/:version/*", async (request, reply) => {
    const file = await deps.bundles.filePath(request.params.version, request.params["*"]);
    deps.log.debug({ version: request.params.version, file: request.params["*"] }, "bundle file served");
    return reply
      .header("content-type", "application/octet-stream")
      .header("content-length", String(file.size))
      .header("x-runos-sha256", file.sha256)
      .send(createReadStream(file.path));
  });
  return app;
}
