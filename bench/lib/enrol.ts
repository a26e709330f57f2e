import { createL1Client, createL2Client, type L1Client } from "../../src/agent/link/clients.js";
import { syncVpn } from "../../src/agent/vpn/sync.js";
import { errorMessage } from "../../src/common/errors.js";
import type { Logger } from "../../src/common/log.js";
import { generateNodeKeyAndCsr } from "../../src/common/pki.js";
import { benchHost, nodeFacts } from "./fake-host.js";
import type { AgentIdentity, Endpoint, MachineToEnrol } from "./ipc.js";
import { mapLimit } from "./stats.js";

export interface EnrolOutcome {
  identities: AgentIdentity[];
  failures: number;
  errors: string[];
}

export interface EnrolOptions {
  concurrency: number;
  /** Also register each node's WireGuard key, as `runos install wireguard` would. */
  wireguard: boolean;
  log: Logger;
}

/** Up to three tries; the last error is kept for the report. */
async function attempt<T>(errors: string[], what: string, fn: () => Promise<T>): Promise<T | undefined> {
  for (let i = 1; i <= 3; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i === 3 && errors.length < 10) errors.push(`${what}: ${errorMessage(err)}`);
    }
  }
  return undefined;
}

/** Register over L1Sec with a key and CSR made here: the key never crosses the wire. */
async function register(l1: L1Client, aid: string, machine: MachineToEnrol): Promise<AgentIdentity> {
  const hostname = `bench-${machine.machineId.slice(-8)}`;
  const { keyPem, csrPem } = await generateNodeKeyAndCsr(hostname);
  const answer = await l1.register(
    { machineId: machine.machineId, aid, token: machine.token, os: "bench", csr: csrPem, hostname },
    { deadlineMs: 30_000 },
  );
  return {
    machineId: machine.machineId,
    cluster: machine.cluster,
    nid: answer.nid,
    certPem: answer.publicKey,
    keyPem,
  };
}

/**
 * What `runos install wireguard` leaves behind: the node's wg0 key known to nodeward, sent by the
 * agent's own ManualSync over its own L2Sec connection (as every agent does when it starts).
 */
async function registerWireGuard(
  endpoint: Endpoint,
  caPem: string,
  identity: AgentIdentity,
  log: Logger,
): Promise<true> {
  const facts = nodeFacts(identity.nid);
  const l2 = createL2Client(endpoint, { caPem, certPem: identity.certPem, keyPem: identity.keyPem });
  try {
    await syncVpn(l2, benchHost(facts, true), { ip: facts.nodeIp }, log);
    return true;
  } finally {
    l2.close();
  }
}

/**
 * Enrols machines through the real L1Sec Register RPC. One TLS channel per worker carries all
 * registrations: enrolment is setup for the benchmark, not what it measures.
 */
export async function enrolMachines(
  endpoint: Endpoint,
  caPem: string,
  aid: string,
  machines: readonly MachineToEnrol[],
  options: EnrolOptions,
): Promise<EnrolOutcome> {
  const l1 = createL1Client(endpoint, caPem);
  const errors: string[] = [];
  try {
    const results = await mapLimit(machines, options.concurrency, async (machine) => {
      const identity = await attempt(errors, machine.machineId, () => register(l1, aid, machine));
      if (!identity || !options.wireguard) return identity;
      const synced = await attempt(errors, `${identity.nid} ManualSync`, () =>
        registerWireGuard(endpoint, caPem, identity, options.log),
      );
      return synced === undefined ? undefined : identity;
    });
    const identities = results.filter((r): r is AgentIdentity => r !== undefined);
    return { identities, failures: machines.length - identities.length, errors };
  } finally {
    l1.close();
  }
}
