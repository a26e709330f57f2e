import { createHash, randomBytes } from "node:crypto";
import * as z from "zod";
import type { Repository, TokenRecord } from "../store/repository.js";

/** Account ids and cluster names end up in a shell command line, so they stay plain. */
export const Name = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
    "use 1-63 letters, digits, '.', '_' or '-', starting alphanumeric",
  );

export const TokenRequest = z.object({
  aid: Name,
  cluster: Name,
  ttlSeconds: z
    .number()
    .int()
    .positive()
    .max(365 * 24 * 3600)
    .default(3600),
  uses: z.number().int().positive().max(100_000).default(1),
  role: z.enum(["control-plane", "worker"]).default("worker"),
});
export type TokenRequest = z.infer<typeof TokenRequest>;

export interface IssuedToken {
  /** Shown once; only its SHA-256 is stored. */
  token: string;
  aid: string;
  cluster: string;
  expiresAt: number;
  uses: number;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export async function issueToken(
  store: Repository,
  request: TokenRequest,
  now: number,
): Promise<IssuedToken> {
  const token = randomBytes(32).toString("base64url");
  const expiresAt = now + request.ttlSeconds * 1000;
  await store.transaction(async (tx) => {
    await tx.ensureCluster(request.aid, request.cluster, now);
    await tx.insertToken({
      tokenHash: hashToken(token),
      aid: request.aid,
      cluster: request.cluster,
      expiresAt,
      usesLeft: request.uses,
      createdAt: now,
      role: request.role,
    });
  });
  return { token, aid: request.aid, cluster: request.cluster, expiresAt, uses: request.uses };
}

export type TokenVerdict = { ok: true; token: TokenRecord } | { ok: false; reason: "expired" | "invalid" };

/**
 * Unknown, used up and issued to another account are one verdict ("invalid"), so a caller
 * cannot probe which tokens exist. Only a token that would otherwise be good may say "expired".
 */
export function judgeToken(token: TokenRecord | undefined, aid: string, now: number): TokenVerdict {
  if (!token || token.aid !== aid || token.usesLeft <= 0) return { ok: false, reason: "invalid" };
  if (now >= token.expiresAt) return { ok: false, reason: "expired" };
  return { ok: true, token };
}
