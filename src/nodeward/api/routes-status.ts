import type { FastifyInstance } from "fastify";
import type { RuntimeStatus } from "../runtime-status.js";

export interface StatusRoutesDeps {
  status(): RuntimeStatus;
}

/** GET /api/status: sessions, handshake gates, event-loop delay since the last read, memory. */
export function statusRoutes(api: FastifyInstance, deps: StatusRoutesDeps): void {
  api.get("/status", async () => deps.status());
}
