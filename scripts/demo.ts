// The README's demo: a real lab (public segment, two NAT sites), nodeward with its embedded
// SQLite store, and four real agents that enrol, install the VPN and form the WireGuard overlay.
// Prints a live table and a ping matrix until Ctrl-C; `--check` prints them once and exits
// non-zero if any pair that docs/networking.md says works does not ping.
import { parseArgs } from "node:util";
import { ensurePackages, tearDownOnSignal } from "../lab/index.js";
import { RunosLab } from "../lab/runos-cluster.js";

const { values } = parseArgs({
  options: {
    check: { type: "boolean", default: false },
    interval: { type: "string", default: "5" },
  },
});
const check = values.check === true;
const intervalMs = Math.max(1, Number(values.interval)) * 1000;
const started = Date.now();
const say = (line: string) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);

if (process.getuid?.() !== 0) {
  process.stderr.write("demo: needs root (it builds network and mount namespaces)\n");
  process.exit(1);
}

say("installing lab packages if missing (wireguard-go, wireguard-tools, nftables, iproute2, iputils-ping)");
await ensurePackages();
say("building the lab: public segment, NAT-A (a1, a2), NAT-B (b1), nodeward on the public segment");
let lab: RunosLab | undefined;
const stopSignals = tearDownOnSignal(async () => {
  await lab?.destroy();
});

try {
  lab = await RunosLab.start({ prefix: "demo", log: say });
  say("all four agents enrolled, VPN installed; waiting for the mesh");
  const deadline = Date.now() + 20_000;
  let ok = await render(lab);
  // --check: retry until the mesh is complete or 20 s passed; otherwise refresh until Ctrl-C.
  while (!check || (!ok && Date.now() < deadline)) {
    if (!check)
      process.stdout.write(`\n(refreshing every ${intervalMs / 1000} s; Ctrl-C tears everything down)\n`);
    await new Promise((resolve) => setTimeout(resolve, check ? 1_000 : intervalMs));
    ok = await render(lab);
  }
  say(ok ? "check passed: every pair pings over wg0" : "check FAILED: some pairs do not ping");
  process.exitCode = ok ? 0 : 1;
} catch (err) {
  say(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  stopSignals();
  say("tearing down");
  await lab?.destroy();
}

/** Prints the node table and the ping matrix; true when every expected pair answered. */
async function render(current: RunosLab): Promise<boolean> {
  const [rows, matrix, handshakes] = await Promise.all([
    current.nodeRows(),
    current.pingMatrix(),
    current.lastHandshakes(),
  ]);
  const byNid = new Map(rows.map((r) => [r.nid, r]));
  const lines = [
    "",
    `${"node".padEnd(6)} ${"nid".padEnd(16)} ${"overlay".padEnd(13)} ${"endpoint".padEnd(20)} ${"online".padEnd(7)} last handshake`,
  ];
  for (const node of current.nodes.values()) {
    const row = byNid.get(node.nid);
    const handshake = handshakes.get(node.name);
    const endpoint = `${node.host.ip}:${row?.listenPort ?? "-"}`;
    const age = handshake ? `${Math.round((Date.now() - handshake.getTime()) / 1000)} s ago` : "never";
    lines.push(
      `${node.name.padEnd(6)} ${node.nid.padEnd(16)} ${node.overlayIp.padEnd(13)} ${endpoint.padEnd(20)} ${String(row?.online ?? false).padEnd(7)} ${age}`,
    );
  }
  const names = [...current.nodes.keys()];
  lines.push("", `ping over wg0  ${names.map((n) => n.padEnd(5)).join(" ")}`);
  let ok = true;
  for (const from of names) {
    const cells = names.map((to) => {
      if (to === from) return "-".padEnd(5);
      const good = matrix.get(from)?.get(to) === true;
      if (!good) ok = false;
      return (good ? "ok" : "FAIL").padEnd(5);
    });
    lines.push(`${from.padEnd(14)} ${cells.join(" ")}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  return ok;
}
