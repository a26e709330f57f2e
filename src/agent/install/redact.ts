const secretWords =
  "password|passwd|secret|token|apikey|api_key|access_key|auth|credential|bearer|private_key|certificatekey|certificate_key";
const flagWords =
  "password|passwd|secret|token|apikey|api-key|api_key|auth|credential|bearer|certificate-key";

// identifier containing a secret word, then = or :, then a (maybe quoted) value
const assignment = new RegExp(
  `(\\b[\\w.-]*(?:${secretWords})[\\w.-]*\\s*[=:]\\s*)("[^"]*"|'[^']*'|[^\\s"']+)`,
  "gi",
);
// --flag=value or --flag value
const flag = new RegExp(`(\\s--?(?:${flagWords})[\\w-]*(?:=|\\s+))("[^"]*"|'[^']*'|[^\\s"']+)`, "gi");

/** Replaces secret values in a command line with [REDACTED], keeping the names (spec 7.1). */
export function redactSecrets(text: string): string {
  return text.replace(assignment, "$1[REDACTED]").replace(flag, "$1[REDACTED]");
}
