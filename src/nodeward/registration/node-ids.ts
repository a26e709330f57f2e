import { randomBytes } from "node:crypto";

const alphabet = "abcdefghijklmnopqrstuvwxyz234567";

/** `n-` + 12 base32 characters (60 random bits): short enough to type, too many to guess. */
export function newNid(random: (size: number) => Buffer = randomBytes): string {
  const bytes = random(12);
  let id = "";
  for (const byte of bytes) id += alphabet[byte & 31];
  return `n-${id}`;
}
