// A topology that fails or is interrupted halfway removes everything it had created.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { after, before, test } from "node:test";
import {
  createTopology,
  downAll,
  ensurePackages,
  listHostNames,
  STATE_DIR,
  tearDownOnSignal,
} from "../../lab/index.js";
import { labSuite } from "./support.js";

const PREFIX = "tlr"; // this file's hosts: labhost-tlr-*

function leftovers(): string[] {
  const netns = existsSync("/run/netns") ? readdirSync("/run/netns") : [];
  return [
    ...listHostNames().filter((n) => n.startsWith(`${PREFIX}-`)),
    ...netns.filter((n) => n.startsWith(`labhost-${PREFIX}-`)),
    ...readdirSync("/tmp").filter((n) => n.startsWith(`labhost-${PREFIX}-`)),
    ...(existsSync(`${STATE_DIR}/${PREFIX}.topology.json`) ? ["state file"] : []),
  ];
}

labSuite("lab topology rollback", { timeout: 30_000 }, () => {
  before(async () => {
    await ensurePackages();
    await downAll(`${PREFIX}-*`);
    tearDownOnSignal(() => downAll(`${PREFIX}-*`));
  });

  after(async () => {
    await downAll(`${PREFIX}-*`);
  });

  test("an abort after the routers are up rolls everything back", async () => {
    const controller = new AbortController();
    const log = (line: string) => {
      if (line.includes("router")) controller.abort(new Error("test abort"));
    };
    await assert.rejects(createTopology({ prefix: PREFIX, signal: controller.signal, log }), /test abort/);
    assert.deepEqual(leftovers(), []);
  });

  test("a bad host list fails after the switch and routers exist, and rolls them back", async () => {
    const hosts = [
      { name: "x", segment: "nat-a", ip: "10.10.1.20" },
      { name: "y", segment: "nat-a", ip: "10.10.1.20" },
    ] as const;
    await assert.rejects(createTopology({ prefix: PREFIX, hosts }), /already used/);
    assert.deepEqual(leftovers(), []);
  });
});
