export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Packets lost according to ping's summary line ("N packets transmitted, M received"). */
export function lostPackets(pingOutput: string): number {
  const match = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(pingOutput);
  if (!match) return Number.POSITIVE_INFINITY;
  return Number(match[1]) - Number(match[2]);
}

export function formatMatrix(matrix: Map<string, Map<string, boolean>>): string {
  const names = [...matrix.keys()].sort();
  const header = `${"from\\to".padEnd(8)} ${names.map((n) => n.padEnd(6)).join(" ")}`;
  const rows = names.map(
    (from) =>
      `${from.padEnd(8)} ${names.map((to) => (to === from ? "-" : matrix.get(from)?.get(to) ? "ok" : "FAIL").padEnd(6)).join(" ")}`,
  );
  return [header, ...rows].join("\n");
}

export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
