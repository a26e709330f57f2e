/** What the gate holds back: a paused connection that may close while it waits. */
export interface GatedConnection {
  readonly destroyed: boolean;
  destroy(): void;
}

export interface HandshakeGateOptions {
  /** Connections allowed into their TLS handshake at once. */
  maxInFlight: number;
  /** Connections waiting for a slot; when full, the one that has waited longest is closed. */
  maxWaiting: number;
}

export interface GateCounters {
  inFlight: number;
  waiting: number;
  /** Handshakes started since the gate was made. */
  started: number;
  /** Connections that had to wait for a slot. */
  queued: number;
  /** Waiting connections closed to make room for newer ones. */
  dropped: number;
}

/**
 * Bounds the TLS handshakes in progress. During a reconnect storm thousands of agents dial at
 * once; starting every handshake at once would split the CPU so thinly that most of them time out
 * on the client and are redone. The gate runs a bounded number at a time; the rest wait, paused,
 * costing a socket and nothing else.
 *
 * The line is served newest first, and when it is full the oldest connection is closed. Under
 * overload the oldest waiters are the ones whose clients have given up (an agent's dial has a
 * 20 s deadline; grpc-js then abandons the connection without closing it). Serving them first
 * would spend every slot on handshakes nobody finishes, which the first 10,000-agent storm showed:
 * 64 slots all held by abandoned connections, nobody admitted for minutes. Newest first serves
 * clients that are still there; an agent whose old connection was dropped has long since redialled.
 */
export class HandshakeGate<C extends GatedConnection> {
  private inFlight = 0;
  /** Oldest at `bottom`, newest at the end; withdrawn entries are skipped lazily. */
  private line: C[] = [];
  private bottom = 0;
  private readonly waiting = new Set<C>();
  private readonly counts = { started: 0, queued: 0, dropped: 0 };

  constructor(
    private readonly options: HandshakeGateOptions,
    /** Starts the handshake; `release` must be called once it ends, however it ends (idempotent). */
    private readonly begin: (connection: C, release: () => void) => void,
  ) {}

  /** A new connection: starts now, or waits (closing the oldest waiter if the line is full). */
  offer(connection: C): "started" | "waiting" | "dropped" {
    if (this.inFlight < this.options.maxInFlight) {
      this.start(connection);
      return "started";
    }
    while (this.waiting.size >= this.options.maxWaiting && this.waiting.size > 0) {
      const oldest = this.takeOldest();
      if (!oldest) break;
      this.counts.dropped += 1;
      oldest.destroy();
    }
    if (this.options.maxWaiting === 0) {
      this.counts.dropped += 1;
      connection.destroy();
      return "dropped";
    }
    this.counts.queued += 1;
    this.waiting.add(connection);
    this.line.push(connection);
    // connections that closed while waiting are still in the array: rebuild it from the live set
    // (a Set iterates in insertion order, oldest first) before it outgrows the line twice over
    if (this.line.length - this.bottom > 2 * this.options.maxWaiting + 1024) {
      this.line = [...this.waiting];
      this.bottom = 0;
    }
    return "waiting";
  }

  /** A waiting connection closed on its own: it gives up its place in the line. */
  withdraw(connection: C): void {
    this.waiting.delete(connection);
  }

  /** Closes every waiting connection (shutdown); handshakes in progress finish on their own. */
  dropWaiting(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    this.line = [];
    this.bottom = 0;
    for (const connection of waiting) connection.destroy();
  }

  counters(): GateCounters {
    return { inFlight: this.inFlight, waiting: this.waiting.size, ...this.counts };
  }

  private start(connection: C): void {
    this.inFlight += 1;
    this.counts.started += 1;
    let released = false;
    this.begin(connection, () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      this.next();
    });
  }

  private next(): void {
    while (this.inFlight < this.options.maxInFlight) {
      const newest = this.takeNewest();
      if (!newest) return;
      if (!newest.destroyed) this.start(newest);
    }
  }

  private takeNewest(): C | undefined {
    while (this.line.length > this.bottom) {
      const connection = this.line.pop() as C;
      if (this.waiting.delete(connection)) return connection;
    }
    this.compact();
    return undefined;
  }

  private takeOldest(): C | undefined {
    while (this.bottom < this.line.length) {
      const connection = this.line[this.bottom] as C;
      this.bottom += 1;
      if (this.waiting.delete(connection)) {
        this.compact();
        return connection;
      }
    }
    this.compact();
    return undefined;
  }

  /** Forgets skipped entries now and then, so the line never holds more than it must. */
  private compact(): void {
    if (this.bottom > 1024 && this.bottom * 2 > this.line.length) {
      this.line = this.line.slice(this.bottom);
      this.bottom = 0;
    } else if (this.line.length === this.bottom) {
      this.line = [];
      this.bottom = 0;
    }
  }
}
