/**
 * Where a nodeward CPU profile (`bench:agents --cpu-prof`) spends its time: self time by package
 * and by function, optionally only inside the steady window recorded in a results file.
 *
 *   node --import tsx bench/profile-summary.ts PROFILE.cpuprofile [RESULTS.json [--phase connect|steady]] [--top N]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** node_modules package, node internals, a V8 pseudo-frame, or the repo-relative source file. */
function category(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith("node:")) return "node internals";
  const src = /\/((?:src|bench)\/.*)$/.exec(url);
  return src ? (src[1] as string) : url;
}

function table(title: string, totals: Map<string, number>, all: number, top: number): string {
  const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = rows.map(
    ([k, us]) =>
      `${((100 * us) / all).toFixed(1).padStart(6)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
  );
  return [title, ...lines].join("\n");
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "25" }, phase: { type: "string", default: "steady" } },
  });
  const [profileFile, resultsFile] = positionals;
  if (!profileFile) throw new Error("usage: profile-summary.ts PROFILE.cpuprofile [RESULTS.json] [--top N]");
  const profile = JSON.parse(readFileSync(profileFile, "utf8")) as Profile;
  let from = profile.startTime;
  let to = profile.endTime;
  if (resultsFile) {
    const result = JSON.parse(readFileSync(resultsFile, "utf8")) as {
      phasesBeforeExitSeconds: Record<string, [number, number]>;
    };
    const span = result.phasesBeforeExitSeconds[values.phase];
    if (!span) throw new Error(`no phase "${values.phase}" in ${resultsFile} (connect or steady)`);
    const [start, end] = span;
    from = profile.endTime - start * 1e6;
    to = profile.endTime - end * 1e6;
  }
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  // inclusive time of our own functions: synchronous callees only (work after an await shows up
  // under the microtask that resumes it, not under the caller)
  const inclusive = new Map<string, number>();
  const ownFramesOf = (id: number): Set<string> => {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = nodes.get(at)?.callFrame;
      const cat = frame ? category(frame.url, frame.functionName) : "";
      if (frame && cat.startsWith("src/")) seen.add(`${frame.functionName || "(anonymous)"}  ${cat}`);
    }
    return seen;
  };
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let t = profile.startTime;
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < from || t > to) return;
    const node = nodes.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idle += delta;
      return;
    }
    busy += delta;
    const cat = category(url, functionName);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + delta);
    const fn = `${functionName || "(anonymous)"}  ${cat}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + delta);
    for (const own of ownFramesOf(id)) inclusive.set(own, (inclusive.get(own) ?? 0) + delta);
  });
  const seconds = (to - from) / 1e6;
  const top = Number(values.top);
  process.stdout.write(
    [
      `${seconds.toFixed(1)} s profiled: busy ${(busy / 1e6).toFixed(2)} s (${((100 * busy) / (busy + idle || 1)).toFixed(1)} % of the main thread), idle ${(idle / 1e6).toFixed(2)} s`,
      "",
      table("self time by package / file (% of busy)", byCategory, busy, top),
      "",
      table("self time by function (% of busy)", byFunction, busy, top),
      "",
      table("inclusive time of src/ functions, synchronous callees only (% of busy)", inclusive, busy, top),
      "",
    ].join("\n"),
  );
}

main();
