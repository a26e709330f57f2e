import type { FastifyInstance } from "fastify";
import * as z from "zod";
import { RunosError } from "../../common/errors.js";
import { instructionCatalogue, instructionSpec } from "../../wire/instructions/index.js";
import type { Hub } from "../hub/hub.js";
import type { Presence } from "../hub/presence.js";
import type { NodeRole, Repository } from "../store/repository.js";
import { parseInput } from "./errors.js";
import { certificateView, nodelogView, nodeView } from "./node-view.js";

export interface NodeRoutesDeps {
  store: Repository;
  hub: Hub;
  presence: Presence;
  deleteNode(nid: string, options?: { force?: boolean }): Promise<{ nid: string; revoked: number }>;
  /** Role changes reach the cluster domain (VIP election, control-plane endpoints). */
  setRole(nid: string, role: NodeRole): Promise<void>;
}

const RoleBody = z.object({ role: z.enum(["control-plane", "worker"]) });

const NidParams = z.object({ nid: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "not a node id") });
const ListQuery = z.object({ all: z.enum(["true", "false", "1", "0"]).optional() });
const LogsQuery = z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(200) });
const InstructionBody = z.object({
  type: z.string().min(1),
  payload: z.unknown().optional(),
  timeoutSeconds: z.number().positive().max(3600).default(30),
});

export function nodeRoutes(app: FastifyInstance, deps: NodeRoutesDeps): void {
  async function existingNode(params: unknown) {
    const { nid } = parseInput(NidParams, params, "node id");
    const node = await deps.store.getNode(nid);
    if (!node) throw new RunosError("NA_NOT_FOUND", `node ${nid} does not exist`);
    return node;
  }
  const view = (node: Parameters<typeof nodeView>[0]) =>
    nodeView(node, deps.presence.view(node.nid), deps.hub.get(node.nid));

  app.get("/nodes", async (request) => {
    const query = parseInput(ListQuery, request.query, "query");
    const all = query.all === "true" || query.all === "1";
    return { nodes: (await deps.store.listNodes({ includeGone: all })).map(view) };
  });

  app.get("/nodes/:nid", async (request) => {
    const node = await existingNode(request.params);
    const certificates = (await deps.store.listCertificates(node.nid)).map(certificateView);
    return { ...view(node), certificates };
  });

  app.get("/nodes/:nid/logs", async (request) => {
    const node = await existingNode(request.params);
    const { limit } = parseInput(LogsQuery, request.query, "query");
    return { nid: node.nid, logs: (await deps.store.listNodelogs(node.nid, limit)).map(nodelogView) };
  });

  app.post("/nodes/:nid/instructions", async (request) => {
    const body = parseInput(InstructionBody, request.body ?? {}, "instruction");
    const spec = instructionSpec(body.type);
    if (!spec) {
      const known = [...instructionCatalogue.keys()].join(", ");
      throw new RunosError(
        "NA_INVALID_INPUT",
        `unknown instruction type "${body.type}"; known types: ${known}`,
      );
    }
    const payload = parseInput(spec.payload, body.payload ?? {}, `${spec.type} payload`);
    const node = await existingNode(request.params);
    if (node.deletedAt !== null || node.replacedBy !== null) {
      throw new RunosError(
        "NA_CONFLICT",
        `node ${node.nid} has been ${node.replacedBy ? "replaced" : "deleted"}`,
      );
    }
    const answer = await deps.hub.request(
      node.nid,
      spec.type,
      payload,
      Math.round(body.timeoutSeconds * 1000),
    );
    return answer;
  });

  app.put("/nodes/:nid/role", async (request) => {
    const node = await existingNode(request.params);
    const { role } = parseInput(RoleBody, request.body ?? {}, "role");
    await deps.setRole(node.nid, role);
    return { nid: node.nid, role };
  });

  app.delete("/nodes/:nid", async (request) => {
    const { nid } = parseInput(NidParams, request.params, "node id");
    const force = (request.query as Record<string, unknown> | undefined)?.force === "true";
    return { ...(await deps.deleteNode(nid, { force })), deleted: true };
  });
}
