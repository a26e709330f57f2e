import { type FastifyInstance, fastify } from "fastify";
import type { Logger } from "../../common/log.js";
import { tokensEqual } from "../ca/admin-token.js";
import { body, sendError } from "./errors.js";
import { type NodeRoutesDeps, nodeRoutes } from "./routes-nodes.js";
import { type StatusRoutesDeps, statusRoutes } from "./routes-status.js";
import { type TokenRoutesDeps, tokenRoutes } from "./routes-tokens.js";
import { type UserRoutesDeps, userRoutes } from "./routes-users.js";

export interface ApiDeps extends NodeRoutesDeps, TokenRoutesDeps, UserRoutesDeps, StatusRoutesDeps {
  adminToken: string;
  log: Logger;
}

/**
 * The operator API. Built without listening (tests use `inject()`); every route under /api
 * sits in one encapsulated plugin whose hook demands the admin bearer token.
 */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.setErrorHandler((err, _request, reply) => sendError(reply, err, deps.log));
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(body("NA_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`)),
  );
  app.addHook("onResponse", async (request, reply) => {
    deps.log.debug(
      { method: request.method, url: request.url.split("?")[0], status: reply.statusCode },
      "api request",
    );
  });

  app.get("/healthz", async () => ({ ok: true }));

  app.register(
    async (api) => {
      api.addHook("onRequest", async (request, reply) => {
        const header = request.headers.authorization ?? "";
        const presented = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
        if (!presented || !tokensEqual(presented, deps.adminToken)) {
          reply.header("www-authenticate", 'Bearer realm="nodeward"');
          return reply
            .status(401)
            .send(
              body("NA_UNAUTHORIZED", "missing or wrong admin token (Authorization: Bearer <admin.token>)"),
            );
        }
      });
      nodeRoutes(api, deps);
      tokenRoutes(api, deps);
      userRoutes(api, deps);
      statusRoutes(api, deps);
    },
    { prefix: "/api" },
  );
  return app;
}
