import type { FastifyInstance } from "fastify";
import { TokenRequest } from "../registration/tokens.js";
import { parseInput } from "./errors.js";

/** What POST /api/tokens returns; the token is shown here once and never again. */
export interface TokenGrant {
  token: string;
  aid: string;
  cluster: string;
  expiresAt: string;
  uses: number;
  caHash: string;
  installCommand: string;
}

export interface TokenRoutesDeps {
  createToken(request: TokenRequest): Promise<TokenGrant>;
}

export function tokenRoutes(app: FastifyInstance, deps: TokenRoutesDeps): void {
  app.post("/tokens", async (request, reply) => {
    const input = parseInput(TokenRequest, request.body ?? {}, "token request");
    reply.status(201);
    return deps.createToken(input);
  });
}
