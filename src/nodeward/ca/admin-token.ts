import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic-file.js";
import { readIfExists } from "./ca-files.js";

export const adminTokenFile = "admin.token";

/** The operator's bearer token: created once (32 random bytes, base64url), mode 0600. */
export async function loadOrCreateAdminToken(path: string): Promise<string> {
  const existing = (await readIfExists(path))?.trim();
  if (existing) return existing;
  const token = randomBytes(32).toString("base64url");
  await writeFileAtomic(path, `${token}\n`, { mode: 0o600, dirMode: 0o700 });
  return token;
}

export async function readAdminToken(dataDir: string): Promise<string | undefined> {
  return (await readIfExists(join(dataDir, adminTokenFile)))?.trim() || undefined;
}

/** Constant-time comparison that does not leak the length either (both sides hashed first). */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}
