// The Kubernetes API load balancer on real HAProxy: a real nodeward and a real agent in lab hosts;
// three TLS stand-ins for API servers on the control-plane nodes' overlay addresses (on the
// agent host's loopback). Traffic stays inside the lab hosts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { addTopologyHost, downAll, exec, hostPath, type LabProcess } from "../../lab/index.js";
import { RunosLab } from "../../lab/runos-cluster.js";
import { serverName } from "../../src/agent/host/haproxy-config.js";
import {
  agentConnected,
  describeLoad,
  enrolStandIns,
  isUp,
  type LoadReport,
  liveServers,
  makeTlsDir,
  masterState,
  NODE,
  nodewardApi,
  startBackend,
  startLoad,
  waitForServers,
} from "./haproxy-support.js";
import type { LabApi } from "./nodeward-api.js";
import { labSuite } from "./support.js";

const prefix = "thp";
const apiPort = 6443;

labSuite("Kubernetes API load balancer (HAProxy on 6446)", { timeout: 120_000 }, () => {
  let lab: RunosLab;
  let tls: ReturnType<typeof makeTlsDir>;
  let api: LabApi;
  let cps: { name: string; nid: string; overlayIp: string; backend: LabProcess; server: string }[] = [];
  const lb = () => {
    const node = lab.nodes.get("lb");
    assert.ok(node);
    return node;
  };
  const pidOfMaster = () =>
    Number(readFileSync(hostPath(lb().host.host, "/run/haproxy/haproxy.pid"), "utf8"));
  const failedAfter = (r: LoadReport, t: number) => r.events.filter(([at, out]) => at >= t && out !== "ok");
  const okFrom = (r: LoadReport, name: string, t: number) =>
    r.events.filter(([at, out, who]) => at >= t && out === "ok" && who === name).length;

  before(async () => {
    await downAll(`${prefix}-*`);
    tls = makeTlsDir(prefix);
    const started = Date.now();
    lab = await RunosLab.start({ prefix, hosts: [] });
    await addTopologyHost(lab.topo, { name: "lb", segment: "public" });
    await lab.joinHost("lb", { vpn: false });
    api = await nodewardApi(lab);
    await agentConnected(lb().host.host, lb().agent?.pid);
    const standIns = await enrolStandIns(lab, api, 3);
    cps = await Promise.all(
      standIns.map(async (n, i) => {
        const name = `cp${i + 1}`;
        await exec(lb().host.host, ["ip", "address", "add", `${n.overlayIp}/32`, "dev", "lo"]);
        const backend = await startBackend(lb().host.host, name, n.overlayIp, apiPort, tls.dir);
        return { name, ...n, backend, server: serverName({ host: n.overlayIp, port: apiPort }) };
      }),
    );
    console.log(
      `lab up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${cps.map((c) => `${c.name} ${c.overlayIp}`).join(", ")}`,
    );
  });

  after(async () => {
    await api?.close().catch(() => {});
    await lab?.destroy(); // downs the hosts: the agent, HAProxy and the stand-ins by PID and namespace
    tls?.remove();
  });

  test("set-role pushes the control-plane set; HAProxy starts and balances round robin over TLS", async () => {
    const started = Date.now();
    for (const cp of cps) await api.setRole(cp.nid, "control-plane");
    const live = await waitForServers(
      lb().host.host,
      "three backends UP",
      (s) => s.length === 3 && s.every(isUp),
    );
    console.log(
      `3 backends live and UP ${Date.now() - started} ms after the first set-role (${live} ms polling)`,
    );
    const desired = JSON.parse(
      readFileSync(hostPath(lb().host.host, "/var/lib/runos/haproxy/endpoints.json"), "utf8"),
    );
    assert.equal(desired.applied, true);
    const agentLog = readFileSync(hostPath(lb().host.host, "/var/log/runos.log"), "utf8");
    const pushes = agentLog
      .split("\n")
      .filter((l) => l.includes("Received instruction") && l.includes('"RUNOS_SET_CONTROL_PLANE_ENDPOINTS"'));
    assert.ok(pushes.length > 0, "nodeward pushed the list (RUNOS_SET_CONTROL_PLANE_ENDPOINTS)");
    assert.equal(desired.source, "push", "applied from the push, not from a poll");

    const probe = `const https = require("node:https"); const out = [];
      const one = () => new Promise((ok, ko) => https.get({ host: "127.0.0.1", port: 6446, agent: false, rejectUnauthorized: false },
        (r) => { let b = ""; r.on("data", (d) => (b += d)); r.on("end", () => ok(b)); }).on("error", ko));
      (async () => { for (let i = 0; i < 6; i++) out.push(await one()); console.log(out.join(" ")); })();`;
    const names = (await exec(lb().host.host, [NODE, "-e", probe], { cwd: "/", timeoutMs: 15_000 })).stdout
      .trim()
      .split(" ");
    console.log(`round robin: ${names.join(" ")}`);
    assert.deepEqual(new Set(names), new Set(["cp1", "cp2", "cp3"]));
    for (let i = 3; i < 6; i++) assert.equal(names[i], names[i - 3], "the order repeats every three");

    const list = await lab.runos("lb", ["kubeproxy", "list", "--json"], 30_000);
    assert.equal(list.code, 0, list.stderr);
    const backends = JSON.parse(list.stdout) as {
      name: string;
      source: string;
      servers: { status: string }[];
    }[];
    assert.equal(backends[0]?.source, "runtime");
    assert.deepEqual(
      backends[0]?.servers.map((s) => s.status),
      ["UP", "UP", "UP"],
    );
    const refresh = await lab.runos("lb", ["kubeproxy", "refresh", "--json"], 30_000);
    assert.equal(refresh.code, 0, refresh.stderr);
    assert.equal(
      JSON.parse(refresh.stdout).changed,
      false,
      "a refresh with the same set is reported as a no-op",
    );
  });

  test("an empty list sent by hand (node exec) is refused: HAProxy keeps its backends, no reload", async () => {
    const host = lb().host.host;
    const reloads = (await masterState(host))?.reloads;
    const answer = await api.call<{ type: string; error?: string }>(
      "POST",
      `/nodes/${lb().nid}/instructions`,
      {
        type: "RUNOS_SET_CONTROL_PLANE_ENDPOINTS",
        payload: { endpoints: [] },
      },
    );
    assert.equal(answer.type, "ERROR");
    assert.match(
      answer.error ?? "",
      /refusing an empty control-plane endpoint list; HAProxy keeps its 3 backend/,
    );
    assert.equal((await liveServers(host)).length, 3);
    assert.equal((await masterState(host))?.reloads, reloads);
  });

  test("without traffic, health checks alone take a dead backend out within 3 s and back in within 4 s", async () => {
    const host = lb().host.host;
    const victim = cps[0];
    assert.ok(victim);
    await victim.backend.stop({ signal: "SIGKILL" });
    const downMs = await waitForServers(host, `${victim.name} DOWN`, (s) =>
      s.some((x) => x.name === victim.server && x.status.startsWith("DOWN")),
    );
    victim.backend = await startBackend(host, victim.name, victim.overlayIp, apiPort, tls.dir);
    const upMs = await waitForServers(host, `${victim.name} UP`, (s) => s.every(isUp));
    console.log(`health checks only: DOWN ${downMs} ms after the kill, UP ${upMs} ms after the restart`);
    assert.ok(downMs < 3_000 && upMs < 4_000);
  });

  test("a backend killed under load is taken out: no connection refused, none failed after detection; fail-back", async () => {
    const host = lb().host.host;
    const load = await startLoad(host);
    await new Promise((r) => setTimeout(r, 1_000));
    const victim = cps[1];
    assert.ok(victim);
    const killedAt = Date.now();
    await victim.backend.stop({ signal: "SIGKILL" });
    const detectionMs = await waitForServers(host, `${victim.name} DOWN`, (s) =>
      s.some((x) => x.name === victim.server && x.status.startsWith("DOWN")),
    );
    const detectedAt = killedAt + detectionMs;
    await new Promise((r) => setTimeout(r, 1_000));
    victim.backend = await startBackend(host, victim.name, victim.overlayIp, apiPort, tls.dir);
    const back = Date.now();
    const failbackMs = await waitForServers(host, `${victim.name} UP again`, (s) =>
      s.some((x) => x.name === victim.server && x.status === "UP"),
    );
    const upAt = back + failbackMs;
    await new Promise((r) => setTimeout(r, 1_500));
    const report = await load.stop();
    console.log(describeLoad("kill one backend", report));
    console.log(`detection ${detectionMs} ms after the kill; back UP ${failbackMs} ms after the restart`);
    assert.equal(report.refused, 0, "HAProxy's frontend never refused");
    assert.deepEqual(failedAfter(report, detectedAt), [], "no failure after detection");
    assert.ok(report.failed <= 8, `only connections in flight on the killed backend fail (${report.failed})`);
    assert.ok(okFrom(report, victim.name, upAt) > 0, "traffic returns to the restarted backend");
  });

  test("a control-plane change pushed by nodeward reloads HAProxy under load without dropping a connection", async () => {
    const host = lb().host.host;
    const victim = cps[2];
    assert.ok(victim);
    const reloadsBefore = (await masterState(host))?.reloads ?? 0;
    const load = await startLoad(host);
    await new Promise((r) => setTimeout(r, 700));
    let started = Date.now();
    await api.setRole(victim.nid, "worker");
    const removedMs = await waitForServers(host, `${victim.name} removed`, (s) => s.length === 2);
    const removedAt = started + removedMs;
    await new Promise((r) => setTimeout(r, 700));
    started = Date.now();
    await api.setRole(victim.nid, "control-plane");
    const addedMs = await waitForServers(host, `${victim.name} back`, (s) => s.length === 3 && s.every(isUp));
    await new Promise((r) => setTimeout(r, 700));
    const report = await load.stop();
    const reloads = ((await masterState(host))?.reloads ?? 0) - reloadsBefore;
    console.log(describeLoad("two pushed reloads", report));
    console.log(
      `set-role -> new backends live: ${removedMs} ms (removal), ${addedMs} ms (addition, UP); ${reloads} reloads`,
    );
    assert.equal(reloads, 2);
    assert.equal(report.failed, 0, "a reload drops no connection");
    assert.ok(report.made > 50, `enough load (${report.made})`);
    assert.equal(okFrom(report, victim.name, removedAt + 300) > 0, true, "the re-added backend gets traffic");
  });

  test("an agent restart keeps HAProxy serving (same master, no reload)", async () => {
    const host = lb().host.host;
    const master = pidOfMaster();
    const reloadsBefore = (await masterState(host))?.reloads;
    const load = await startLoad(host);
    await new Promise((r) => setTimeout(r, 500));
    const restarted = Date.now();
    await lab.restartAgent("lb");
    await agentConnected(host, lb().agent?.pid);
    console.log(`the new agent was connected ${Date.now() - restarted} ms after the restart began`);
    await new Promise((r) => setTimeout(r, 1_000)); // the new agent's first poll and push have run
    const report = await load.stop();
    console.log(describeLoad("agent restart", report));
    assert.equal(report.failed, 0);
    assert.equal(pidOfMaster(), master, "the same HAProxy master");
    assert.equal((await masterState(host))?.reloads, reloadsBefore, "the unchanged list caused no reload");
  });

  test("with nodeward down and HAProxy gone, a starting agent brings HAProxy back from the stored list", async () => {
    const host = lb().host.host;
    await lab.stopNodeward("SIGKILL");
    const node = lb();
    await node.agent?.stop({ timeoutMs: 5_000 });
    const master = pidOfMaster();
    process.kill(master, "SIGTERM");
    while ((await liveServers(host).catch(() => undefined)) !== undefined)
      await new Promise((r) => setTimeout(r, 50));
    node.agent = lab.startAgent("lb");
    const upMs = await waitForServers(
      host,
      "three backends UP",
      (s) => s.length === 3 && s.every(isUp),
      30_000,
    );
    console.log(
      `HAProxy serving again ${upMs} ms after the agent was started (no control plane; includes agent start-up)`,
    );
    assert.notEqual(pidOfMaster(), master);
  });
});
