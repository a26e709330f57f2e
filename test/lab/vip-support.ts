import { exec, type LabHost } from "../../lab/index.js";

export { type LabApi, openNodewardApi as openApi } from "./nodeward-api.js";

/** True when the host has one of the addresses as a /32 on any interface (`ip -4 -o addr show`). */
export async function holdsAny(host: LabHost, addresses: readonly string[]): Promise<boolean> {
  const out = (await exec(host, ["ip", "-4", "-o", "addr", "show"], { timeoutMs: 5_000 })).stdout;
  return addresses.some((a) => out.includes(` ${a}/32 `));
}

export interface Sample {
  at: number;
  a: boolean;
  b: boolean;
  /** A held the VIP both just before and just after B was seen holding it. */
  overlap: boolean;
  /** A's and B's reads disagree about the order only by the few ms between them. */
  suspect: boolean;
}

/**
 * Samples two hosts every 100 ms. Each round reads A, then B, then A again: when A is seen
 * holding before AND after B was seen holding, both held it at the moment B was read (a proven
 * overlap); one-sided coincidences are only counted as suspects (the reads are ms apart).
 */
export class HolderSampler {
  readonly samples: Sample[] = [];
  /** Rounds that failed (a host's `ip` did not run), with the last reason. */
  errors = 0;
  lastError = "";
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly a: LabHost,
    private readonly b: LabHost,
    private readonly addresses: () => readonly string[],
    private readonly everyMs = 100,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const started = Date.now();
        const addresses = this.addresses();
        try {
          const a1 = await holdsAny(this.a, addresses);
          const b = await holdsAny(this.b, addresses);
          const a2 = await holdsAny(this.a, addresses);
          this.samples.push({
            at: started,
            a: a1 && a2,
            b,
            overlap: a1 && b && a2,
            suspect: b && (a1 || a2),
          });
        } catch (err) {
          this.errors += 1;
          this.lastError = String(err);
        }
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, this.everyMs - (Date.now() - started))),
        );
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The first sample at or after `since` that satisfies `test`. */
  first(since: number, test: (s: Sample) => boolean): Sample | undefined {
    return this.samples.find((s) => s.at >= since && test(s));
  }

  between(from: number, to: number): Sample[] {
    return this.samples.filter((s) => s.at >= from && s.at <= to);
  }
}

export interface PingReport {
  sent: number;
  received: number;
  /** Longest time between two consecutive replies (ms), from `ping -D` timestamps. */
  longestGapMs: number;
}

/** Parses `ping -D -i 0.1` output. */
export function pingReport(output: string): PingReport {
  const times = [...output.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]) * 1000);
  let longestGapMs = 0;
  for (let i = 1; i < times.length; i += 1) {
    longestGapMs = Math.max(longestGapMs, (times[i] ?? 0) - (times[i - 1] ?? 0));
  }
  const summary = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  return {
    sent: Number(summary?.[1] ?? 0),
    received: Number(summary?.[2] ?? 0),
    longestGapMs: Math.round(longestGapMs),
  };
}

/** The MAC address of one of the host's interfaces. */
export async function macOf(host: LabHost, iface: string): Promise<string> {
  const out = (await exec(host, ["ip", "-j", "link", "show", "dev", iface], { timeoutMs: 5_000 })).stdout;
  return ((JSON.parse(out) as { address?: string }[])[0]?.address ?? "").toLowerCase();
}

/** The MAC the host's neighbour table has for an address ("" when none). */
export async function neighbourMac(host: LabHost, ip: string): Promise<string> {
  const out = (await exec(host, ["ip", "-j", "neigh", "show", ip], { timeoutMs: 5_000 })).stdout;
  return ((JSON.parse(out || "[]") as { lladdr?: string }[])[0]?.lladdr ?? "").toLowerCase();
}

/** Cuts the host's control connection: drops its packets toward nodeward's L2Sec port. */
export async function cutFromNodeward(host: LabHost, nodewardIp: string, port = 9192): Promise<void> {
  const rules = `table inet vipcut {
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr ${nodewardIp} tcp dport ${port} drop
  }
}
`;
  const result = await exec(host, ["nft", "-f", "-"], { input: rules, timeoutMs: 5_000 });
  if (result.code !== 0) throw new Error(`nft: ${result.stderr}`);
}

export async function healCut(host: LabHost): Promise<void> {
  await exec(host, ["nft", "delete", "table", "inet", "vipcut"], { timeoutMs: 5_000 });
}

export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean> | boolean,
  everyMs = 100,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
