import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { enrol, eventually, l2Client, startNodeward, type TestNodeward } from "./helpers/nodeward.js";

/** Our children running the acceptor script (from /proc: parent pid and command line). */
function acceptorPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (ppid === process.pid && cmdline.includes("acceptor-process.mjs")) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

const log = { type: "Test", severity: 3, message: "via the acceptor" };

describe("acceptor process", () => {
  let t: TestNodeward | undefined;
  after(async () => {
    await t?.close();
  });

  test("accepts for nodeward, comes back when killed, and ends with nodeward", async () => {
    t = await startNodeward({ config: { acceptor: "process" } });
    const [pid] = acceptorPids();
    assert.ok(pid, "nodeward started an acceptor process");
    const node = await enrol(t); // L1Sec through the acceptor
    await l2Client(t, node).addNodelog(log); // L2Sec through the acceptor, mutual TLS intact
    assert.equal((await t.nw.store.listNodelogs(node.nid, 10)).at(-1)?.message, "via the acceptor");

    process.kill(pid, "SIGKILL");
    await eventually(() => acceptorPids().some((p) => p !== pid), 10_000);
    await eventually(async () => {
      try {
        await l2Client(t as TestNodeward, node).addNodelog(log, { deadlineMs: 2_000 });
        return true;
      } catch {
        return false;
      }
    }, 15_000);

    await t.close();
    t = undefined;
    await eventually(() => acceptorPids().length === 0, 5_000);
  });
});
