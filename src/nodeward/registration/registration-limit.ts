import type { grpc } from "../../wire/grpc.js";
import { retryLater } from "../hub/admission.js";

export interface RegistrationLimitOptions {
  /** Registrations in progress at once (each signs a certificate and writes one transaction). */
  maxInFlight: number;
  /** Registrations waiting for a turn; one more is refused with a retry hint. */
  maxWaiting: number;
  random?: () => number;
}

/**
 * Bounds concurrent registrations. A fleet enrolling at once (a provisioning script on 1,000
 * machines) queues here instead of piling signatures and transactions onto the event loop; when
 * the queue is full the machine is told to come back later, and `runos register` does.
 */
export class RegistrationLimit {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: RegistrationLimitOptions) {}

  /** Runs `work` when a slot is free; throws RESOURCE_EXHAUSTED with a retry hint when the line is full. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.options.maxInFlight) {
      if (this.waiting.length >= this.options.maxWaiting) throw this.refusal();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.inFlight += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes straight to the next in line
      else this.inFlight -= 1;
    }
  }

  private refusal(): grpc.ServiceError {
    const ms = Math.round(1_000 + (this.options.random ?? Math.random)() * 4_000);
    return retryLater("nodeward is busy registering other machines; retry later", ms);
  }
}
