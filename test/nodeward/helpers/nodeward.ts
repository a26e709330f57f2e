import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../../src/common/clock.js";
import { silentLogger } from "../../../src/common/log.js";
import { generateNodeKeyAndCsr } from "../../../src/common/pki.js";
import type { NodewardConfig } from "../../../src/nodeward/config.js";
import { createNodeward, type Nodeward } from "../../../src/nodeward/create-nodeward.js";
import type { Envelope } from "../../../src/wire/envelope.js";
import { Nodeward as L1Service } from "../../../src/wire/gen/runos/nodeward/proto/l1sec/nodeward_l1sec_pb.js";
import { Nodeward as L2Service } from "../../../src/wire/gen/runos/nodeward/proto/l2sec/nodeward_l2sec_pb.js";
import { createTypedClient, grpc, type TypedClient } from "../../../src/wire/grpc.js";

export type L1Client = TypedClient<(typeof L1Service)["method"]>;
export type L2Client = TypedClient<(typeof L2Service)["method"]>;

export async function tempDir(prefix = "nodeward-test-"): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface TestNodeward {
  nw: Nodeward;
  dir: string;
  clients: { close(): void }[];
  close(): Promise<void>;
}

/** A started nodeward on free loopback ports in a temp data dir. */
export async function startNodeward(
  options: { clock?: Clock; config?: Partial<NodewardConfig>; start?: boolean } = {},
): Promise<TestNodeward> {
  const dir = await tempDir();
  const nw = await createNodeward({
    config: {
      dataDir: dir.path,
      grpcHost: "127.0.0.1",
      l1Port: 0,
      l2Port: 0,
      httpPort: 0,
      acceptor: "inline", // dozens of nodewards per run: no acceptor process each (test/nodeward/acceptor.test.ts covers it)
      ...options.config,
    },
    clock: options.clock,
    log: silentLogger(),
  });
  if (options.start !== false) await nw.start();
  const clients: { close(): void }[] = [];
  return {
    nw,
    dir: dir.path,
    clients,
    async close() {
      for (const client of clients) client.close();
      await nw.stop();
      await dir.remove();
    },
  };
}

const channelOptions = { "grpc.enable_http_proxy": 0, "grpc.use_local_subchannel_pool": 1 };

export function l1Client(t: TestNodeward, caPem = t.nw.caCertPem): L1Client {
  const client = createTypedClient(
    L1Service,
    `localhost:${t.nw.ports().l1}`,
    grpc.credentials.createSsl(Buffer.from(caPem)),
    channelOptions,
  );
  t.clients.push(client);
  return client;
}

export function l2Client(t: TestNodeward, identity?: { keyPem: string; certPem: string }): L2Client {
  const creds = identity
    ? grpc.credentials.createSsl(
        Buffer.from(t.nw.caCertPem),
        Buffer.from(identity.keyPem),
        Buffer.from(identity.certPem),
      )
    : grpc.credentials.createSsl(Buffer.from(t.nw.caCertPem));
  const client = createTypedClient(L2Service, `localhost:${t.nw.ports().l2}`, creds, channelOptions);
  t.clients.push(client);
  return client;
}

export interface EnrolledNode {
  nid: string;
  keyPem: string;
  certPem: string;
  caPem: string;
}

/** Registers a node the runos way (CSR) with a fresh token. */
export async function enrol(
  t: TestNodeward,
  options: { aid?: string; cluster?: string; machineId?: string } = {},
): Promise<EnrolledNode> {
  const aid = options.aid ?? "acct1";
  const grant = await t.nw.createToken({ aid, cluster: options.cluster ?? "c1" });
  const { keyPem, csrPem } = await generateNodeKeyAndCsr("runos-node");
  const response = await l1Client(t).register({
    machineId: options.machineId ?? `machine-${Math.random().toString(16).slice(2)}`,
    aid,
    token: grant.token,
    os: "debian-12",
    csr: csrPem,
    hostname: "host-a",
  });
  return { nid: response.nid, keyPem, certPem: response.publicKey, caPem: response.caCert };
}

/** A raw NodeAgentStream, as an agent would hold it, with a queue of received messages. */
export class AgentStream {
  private readonly received: Envelope[] = [];
  private readonly waiters: { match: (m: Envelope) => boolean; resolve: (m: Envelope) => void }[] = [];
  readonly ended: Promise<grpc.StatusObject | Error>;
  readonly call: grpc.ClientDuplexStream<Partial<Envelope>, Envelope>;

  constructor(client: L2Client) {
    this.call = client.nodeAgentStream() as unknown as grpc.ClientDuplexStream<Partial<Envelope>, Envelope>;
    this.call.on("data", (message: Envelope) => {
      const envelope = { type: message.type, jsonB64: message.jsonB64, tag: message.tag };
      const index = this.waiters.findIndex((w) => w.match(envelope));
      const waiter = index >= 0 ? this.waiters.splice(index, 1)[0] : undefined;
      if (waiter) waiter.resolve(envelope);
      else this.received.push(envelope);
    });
    this.ended = new Promise((resolve) => {
      this.call.on("status", (status: grpc.StatusObject) => resolve(status));
      this.call.on("error", (err: Error) => resolve(err));
    });
  }

  send(message: Envelope): void {
    this.call.write(message);
  }

  /** The next message matching, whether it already arrived or arrives within timeoutMs. */
  next(match: (m: Envelope) => boolean = () => true, timeoutMs = 5_000): Promise<Envelope> {
    const index = this.received.findIndex(match);
    if (index >= 0) return Promise.resolve(this.received.splice(index, 1)[0] as Envelope);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: Envelope) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      // A timed-out waiter must not swallow a later message.
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error("no matching message in time"));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  close(): void {
    this.call.end();
    this.call.cancel();
  }
}

export function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64");
}

export function unb64(text: string): unknown {
  return JSON.parse(Buffer.from(text, "base64").toString("utf8"));
}

/** Polls until the predicate holds (for effects that cross an async boundary). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
