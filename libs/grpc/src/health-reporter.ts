import type { MessageInitShape } from "@bufbuild/protobuf";
import { healthV1 } from "@tailor/proto";
import { Code } from "./code.js";
import type { ServiceImpl } from "./server-call.js";
import { TailorError } from "./tailor-error.js";

/** A status a service can report to health checks. */
export type ServingStatus = "SERVING" | "NOT_SERVING";

/**
 * The server's answers to grpc.health.v1 probes. The entry "" stands for the
 * whole server; each added service has an entry under its full type name.
 */
export interface HealthReporter {
  /** Sets the status of a service (or "" for the server); Watch streams see the change. Ignored once shutdown began. */
  set(service: string, status: ServingStatus): void;
  /** The current status, or undefined for a service the server does not know. */
  get(service: string): ServingStatus | undefined;
  /**
   * Reports `service` NOT_SERVING, whatever `set` says, until the returned
   * hold is released — for a service that is listening but not yet useful
   * (e.g. still loading data). Releasing restores the status last `set`.
   */
  hold(service: string): HealthHold;
}

/** A service kept NOT_SERVING by {@link HealthReporter.hold}. */
export interface HealthHold {
  /** Ends this hold (idempotent); the service reports its own status again once no hold is left. */
  release(): void;
}

const Wire = healthV1.HealthCheckResponse_ServingStatus;

/** Health state plus the Health service implementation that reads it. */
export class HealthState implements HealthReporter {
  readonly #statuses = new Map<string, ServingStatus>();
  // What `set` asked for, kept while holds override it.
  readonly #wanted = new Map<string, ServingStatus>();
  readonly #holds = new Map<string, number>();
  readonly #waiters = new Set<() => void>();
  #shutDown = false;

  set(service: string, status: ServingStatus): void {
    if (this.#shutDown) return;
    this.#wanted.set(service, status);
    this.#apply(service);
  }

  hold(service: string): HealthHold {
    this.#holds.set(service, (this.#holds.get(service) ?? 0) + 1);
    this.#apply(service);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.#holds.get(service) ?? 1) - 1;
        if (left === 0) this.#holds.delete(service);
        else this.#holds.set(service, left);
        this.#apply(service);
      },
    };
  }

  #apply(service: string): void {
    if (this.#shutDown) return;
    const wanted = this.#wanted.get(service);
    const status: ServingStatus | undefined = this.#holds.has(service) ? "NOT_SERVING" : wanted;
    if (status === undefined || this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    this.#wake();
  }

  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** Marks everything NOT_SERVING for good and lets Watch streams finish after telling their callers. */
  shutdown(): void {
    if (this.#shutDown) return;
    for (const service of this.#statuses.keys()) this.#statuses.set(service, "NOT_SERVING");
    this.#shutDown = true;
    this.#wake();
  }

  /** Implements grpc.health.v1.Health over this state. */
  service(): ServiceImpl<typeof healthV1.Health> {
    return {
      check: (request) => {
        const status = this.get(request.service);
        if (status === undefined) {
          // The health protocol requires NOT_FOUND for a service the server does not know.
          throw new TailorError(Code.NOT_FOUND, `unknown service "${request.service}"`);
        }
        return { status: Wire[status] };
      },
      watch: (request, ctx) => this.#watch(request.service, ctx.signal),
    };
  }

  async *#watch(
    service: string,
    signal: AbortSignal,
  ): AsyncIterable<MessageInitShape<typeof healthV1.HealthCheckResponseSchema>> {
    let sent: healthV1.HealthCheckResponse_ServingStatus | undefined;
    for (;;) {
      const status = this.get(service);
      // Watch reports an unknown service instead of failing, and keeps watching it.
      const current = status === undefined ? Wire.SERVICE_UNKNOWN : Wire[status];
      if (current !== sent) {
        sent = current;
        yield { status: current };
        continue; // re-read: the status may have changed while the consumer had the message
      }
      if (this.#shutDown || signal.aborted) return;
      await this.#nextChange(signal);
    }
  }

  #nextChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
