/** What the gate holds back: a paused connection that may close while it waits. */
export interface GatedConnection {
  readonly destroyed: boolean;
  destroy(): void;
}

export interface HandshakeGateOptions {
  /** Connections allowed into their TLS handshake at once. */
  maxInFlight: number;
  /** Connections waiting for a slot; one more is closed at once (its agent backs off and redials). */
  maxWaiting: number;
}

export interface GateCounters {
  inFlight: number;
  waiting: number;
  /** Handshakes started since the gate was made. */
  started: number;
  /** Connections that had to wait for a slot. */
  queued: number;
  /** Connections closed because the waiting line was full. */
  dropped: number;
}

/**
 * Bounds the TLS handshakes in progress. During a reconnect storm thousands of agents dial at
 * once; starting every handshake at once would split the CPU so thinly that most of them time out
 * on the client and are redone. The gate finishes a bounded number at a time and keeps the rest
 * waiting in arrival order, paused, costing a socket and nothing else.
 */
export class HandshakeGate<C extends GatedConnection> {
  private inFlight = 0;
  /** In arrival order (a Set iterates in insertion order and forgets a closed one in O(1)). */
  private readonly waiting = new Set<C>();
  private readonly counts = { started: 0, queued: 0, dropped: 0 };

  constructor(
    private readonly options: HandshakeGateOptions,
    /** Starts the handshake; `release` must be called once it ends, however it ends (idempotent). */
    private readonly begin: (connection: C, release: () => void) => void,
  ) {}

  /** A new connection: starts now, waits, or is closed when the line is full. */
  offer(connection: C): "started" | "waiting" | "dropped" {
    if (this.inFlight < this.options.maxInFlight) {
      this.start(connection);
      return "started";
    }
    if (this.waiting.size >= this.options.maxWaiting) {
      this.counts.dropped += 1;
      connection.destroy();
      return "dropped";
    }
    this.counts.queued += 1;
    this.waiting.add(connection);
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
    for (const connection of this.waiting) {
      if (this.inFlight >= this.options.maxInFlight) return;
      this.waiting.delete(connection);
      if (!connection.destroyed) this.start(connection);
    }
  }
}
