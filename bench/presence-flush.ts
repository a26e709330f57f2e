/**
 * How long one presence tick keeps nodeward's event loop busy: Presence writes the latest
 * heartbeat of every node that beat since the last tick (1 s) in one transaction, one UPDATE per
 * node, through Kysely on better-sqlite3. better-sqlite3 is synchronous and Kysely only yields to
 * microtasks, so the whole batch runs without I/O in between: nothing else (streams, API) is served
 * meanwhile. Measures the real repository, then the same rows through one prepared statement
 * (the suggested fix) for comparison. Not part of the test suite.
 *
 *   node --import tsx bench/presence-flush.ts [--nodes 10000] [--heartbeat-ms 5000] [--rounds 20]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import SqliteDatabase from "better-sqlite3";
import type { PresenceUpdate } from "../src/nodeward/store/repository.js";
import { openSqliteRepository } from "../src/nodeward/store/sqlite.js";
import { summarise } from "./lib/stats.js";

/** Runs `work` while a 1 ms timer probes the event loop; returns the work's time and the longest gap. */
async function probed(work: () => Promise<void>): Promise<{ ms: number; longestGapMs: number }> {
  let last = performance.now();
  let longest = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  last = performance.now();
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 5));
  clearInterval(probe);
  return { ms, longestGapMs: longest };
}

function updatesFor(nids: string[], now: number): PresenceUpdate[] {
  return nids.map((nid, i) => ({
    nid,
    lastSeenAt: now,
    observedAddr: `ipv4:127.0.0.1:${20_000 + (i % 40_000)}`,
    status: {
      version: "0.1.0",
      isCp: false,
      isWorker: false,
      k8sStatus: "not_installed",
      externalIp: null,
      nodeIp: `10.100.${(i >> 8) & 255}.${i & 255}`,
      vpnIp: null,
      hostname: `bench-${nid}`,
    },
  }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string", default: "10000" },
      "heartbeat-ms": { type: "string", default: "5000" },
      rounds: { type: "string", default: "20" },
    },
  });
  const nodes = Number(values.nodes);
  const perTick = Math.ceil(nodes / (Number(values["heartbeat-ms"]) / 1000));
  const rounds = Math.min(50, Number(values.rounds));
  const dir = mkdtempSync(join(tmpdir(), "runos-presence-"));
  const file = join(dir, "nodeward.db");
  try {
    const store = await openSqliteRepository(file);
    const now = Date.now();
    const nids = Array.from({ length: nodes }, (_, i) => `n-bench${String(i).padStart(6, "0")}`);
    await store.transaction(async (tx) => {
      await tx.ensureCluster("bench", "c000", now);
      for (const nid of nids) {
        await tx.insertNode({
          nid,
          aid: "bench",
          cluster: "c000",
          machineId: nid,
          os: "bench",
          hostname: nid,
          createdAt: now,
        });
      }
    });
    const batch = updatesFor(nids.slice(0, perTick), now);
    const kysely: { ms: number; longestGapMs: number }[] = [];
    for (let r = 0; r < 3; r++) await store.recordPresence(batch); // JIT warm-up, not counted
    for (let r = 0; r < rounds; r++) kysely.push(await probed(() => store.recordPresence(batch)));
    await store.close();

    // the same rows through one statement prepared once, in one better-sqlite3 transaction
    const db = new SqliteDatabase(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const update = db.prepare(
      `UPDATE nodes SET last_seen_at = ?, observed_addr = ?, version = ?, is_cp = ?, is_worker = ?,
         k8s_status = ?, external_ip = ?, node_ip = COALESCE(?, node_ip), vpn_ip = COALESCE(?, vpn_ip),
         hostname = COALESCE(?, hostname) WHERE nid = ?`,
    );
    const writeAll = db.transaction((rows: PresenceUpdate[]) => {
      for (const u of rows) {
        const s = u.status;
        update.run(
          new Date(u.lastSeenAt).toISOString(),
          u.observedAddr,
          s?.version ?? null,
          s?.isCp ? 1 : 0,
          s?.isWorker ? 1 : 0,
          s?.k8sStatus ?? null,
          s?.externalIp ?? null,
          s?.nodeIp ?? null,
          s?.vpnIp ?? null,
          s?.hostname ?? null,
          u.nid,
        );
      }
    });
    const prepared: { ms: number; longestGapMs: number }[] = [];
    for (let r = 0; r < 3; r++) writeAll(batch);
    for (let r = 0; r < rounds; r++) prepared.push(await probed(async () => writeAll(batch)));
    db.close();

    const line = (name: string, runs: { ms: number; longestGapMs: number }[]) => {
      const t = summarise(runs.map((r) => r.ms));
      const gap = summarise(runs.map((r) => r.longestGapMs));
      return `${name.padEnd(34)} per tick p50 ${t.p50.toFixed(1)} ms, max ${t.max.toFixed(1)} ms (${((t.p50 * 1000) / perTick).toFixed(1)} us/row); longest event-loop gap ${gap.max.toFixed(1)} ms`;
    };
    process.stdout.write(
      [
        `${nodes} nodes, heartbeat every ${values["heartbeat-ms"]} ms: ${perTick} presence rows per 1 s tick, ${rounds} rounds after 3 warm-up rounds`,
        line("recordPresence (Kysely, today)", kysely),
        line("one prepared statement (fix)", prepared),
        "",
      ].join("\n"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
