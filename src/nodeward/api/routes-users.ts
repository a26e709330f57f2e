import type { FastifyInstance } from "fastify";
import * as z from "zod";
import { type UserGrant, UserRequest } from "../cluster/users.js";
import { parseInput } from "./errors.js";

export interface UserRoutesDeps {
  addUser(request: UserRequest): Promise<UserGrant>;
  removeUser(request: { name: string; cluster: string; aid?: string }): Promise<{ removed: boolean }>;
  listUsers(cluster: string, aid?: string): Promise<unknown[]>;
}

const ClusterQuery = z.object({
  cluster: z.string().trim().min(1),
  aid: z.string().trim().min(1).optional(),
});

export function userRoutes(app: FastifyInstance, deps: UserRoutesDeps): void {
  app.post("/users", async (request, reply) => {
    const input = parseInput(UserRequest, request.body ?? {}, "user request");
    reply.status(201);
    return deps.addUser(input);
  });
  app.get("/users", async (request) => {
    const query = parseInput(ClusterQuery, request.query ?? {}, "user query");
    return { users: await deps.listUsers(query.cluster, query.aid) };
  });
  app.delete("/users/:name", async (request) => {
    const query = parseInput(ClusterQuery, request.query ?? {}, "user query");
    const { name } = request.params as { name: string };
    return deps.removeUser({ name, cluster: query.cluster, aid: query.aid });
  });
}
