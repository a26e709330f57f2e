import { RunosError } from "../../../common/errors.js";

/** Single-quoted for sh: the one way a value enters a command line. */
export function q(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * `cat > PATH.new <<EOF ... EOF` plus an atomic rename: a file is written whole or not at all.
 * Only the named `${VAR}`s may expand; any other `$`, a backtick or a backslash is a bug here.
 */
export function writeFile(
  path: string,
  content: string,
  options: { mode?: string; vars?: string[] } = {},
): string {
  const vars = options.vars ?? [];
  const stripped = content.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) =>
    vars.includes(name) ? "" : whole,
  );
  // A quoted heredoc is taken literally; an expanding one may only expand the named variables.
  if (vars.length > 0 && /[$`\\]/.test(stripped))
    throw new RunosError("NA_INTERNAL", `refusing to render ${path}: unexpected $, backtick or backslash`);
  const delimiter = "RUNOS_EOF";
  if (content.includes(delimiter))
    throw new RunosError("NA_INTERNAL", `${path} contains the heredoc delimiter`);
  const heredoc = vars.length > 0 ? delimiter : `'${delimiter}'`;
  const mode = options.mode ?? "0644";
  return `mkdir -p "$(dirname ${q(path)})" && cat > ${q(`${path}.new`)} <<${heredoc}\n${content}${content.endsWith("\n") ? "" : "\n"}${delimiter}\nchmod ${mode} ${q(`${path}.new`)} && mv ${q(`${path}.new`)} ${q(path)}`;
}
