import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Live heap of a snapshot, grouped by constructor (objects) or node type (strings, code, ...). */
export interface HeapSummary {
  totalBytes: number;
  groups: Map<string, { count: number; bytes: number }>;
}

interface SnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Reads a .heapsnapshot (V8 runs a full GC before writing one, so this is retained memory). */
export function summariseSnapshot(file: string): HeapSummary {
  const data = JSON.parse(readFileSync(file, "utf8")) as SnapshotFile;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const groups = new Map<string, { count: number; bytes: number }>();
  let totalBytes = 0;
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt] ?? 0] ?? "?";
    const bytes = data.nodes[i + sizeAt] ?? 0;
    const key =
      type === "object" || type === "closure"
        ? `${type} ${data.strings[data.nodes[i + nameAt] ?? 0]}`
        : `(${type})`;
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count += 1;
    group.bytes += bytes;
    groups.set(key, group);
    totalBytes += bytes;
  }
  return { totalBytes, groups };
}

/** Biggest growths between two snapshots, per group, with the count change. */
export function heapGrowth(before: HeapSummary, after: HeapSummary, top: number) {
  return [...after.groups.entries()]
    .map(([key, a]) => {
      const b = before.groups.get(key) ?? { count: 0, bytes: 0 };
      return { group: key, bytes: a.bytes - b.bytes, count: a.count - b.count };
    })
    .sort((x, y) => y.bytes - x.bytes)
    .slice(0, top);
}

/**
 * Waits for the snapshot a `--heapsnapshot-signal` process writes into dir after the signal
 * (a new `Heap.*.<pid>.*.heapsnapshot` whose JSON is complete). Bounded by timeoutMs.
 */
export async function awaitSnapshot(
  dir: string,
  pid: number,
  known: Set<string>,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let lastSize = -1;
  while (Date.now() < deadline) {
    const fresh = readdirSync(dir).find(
      (f) => f.endsWith(".heapsnapshot") && f.includes(`.${pid}.`) && !known.has(f),
    );
    if (fresh) {
      const file = join(dir, fresh);
      const size = statSync(file).size;
      if (size === lastSize && endsComplete(file)) return file;
      lastSize = size;
    }
    await sleep(500);
  }
  throw new Error(`no heap snapshot from pid ${pid} in ${dir} within ${timeoutMs / 1000} s`);
}

function endsComplete(file: string): boolean {
  const size = statSync(file).size;
  if (size < 2) return false;
  const fd = openSync(file, "r");
  try {
    const tail = Buffer.alloc(Math.min(16, size));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    return tail.toString("utf8").trimEnd().endsWith("]}");
  } finally {
    closeSync(fd);
  }
}
