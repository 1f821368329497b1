/**
 * The bus: one NATS connection of a service, publishing catalogue events
 * with stable message ids and consuming durable consumers as typed deliveries.
 */
import { create, type Message, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import type { Logger } from "@tailor/log";
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  Events,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  NatsError,
  nanos,
  headers as natsHeaders,
  type QueuedIterator,
  type Status,
} from "nats";
import {
  type ConsumerSpec,
  consumers,
  deadLetterSubject,
  defaultNamespace,
  type EventType,
  streamName,
  subjectFor,
  validateNamespace,
} from "./catalogue.js";
import { type ConsumeContext, type ConsumeOptions, consume } from "./consume.js";
import {
  busHeaders,
  type DeadLetter,
  DeadLetterListeners,
  type DeadLetterObserver,
  deadLetterHeadersFor,
  headerSafeReason,
  parseDeadLetter,
} from "./dead-letters.js";
import type { Delivery } from "./delivery.js";
import {
  BusClosedError,
  BusConfigError,
  BusConnectionError,
  BusError,
  describe,
  PublishError,
} from "./errors.js";
import { ensureConsumer, type ProvisionOptions, provisionStreams } from "./provision.js";

/** Options of {@link connectBus}. */
export interface ConnectBusOptions {
  /** NATS server URL(s), comma-separated, e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string;
  /** Connection name shown by the server, usually the service name. */
  readonly name: string;
  /** Logger for connection changes and dead letters. */
  readonly logger: Logger;
  /**
   * Prefix of every subject and stream; tests use a unique one per file.
   * @default "tailor"
   */
  readonly namespace?: string;
  /** Reconnection after the connection is lost. */
  readonly reconnect?: {
    /** @default -1 (forever) */
    readonly maxAttempts?: number;
    /** @default 2_000 */
    readonly waitMs?: number;
  };
  /**
   * How long the first connection attempt may take.
   * @default 5_000
   */
  readonly connectTimeoutMs?: number;
}

/** Options of {@link Bus.publish}. */
export interface PublishOptions {
  /**
   * Stable id of this event, e.g. `build-123:queued`. JetStream drops a
   * repeat within the duplicate window (2 minutes), so retries are harmless.
   */
  readonly msgID: string;
  /** Extra headers; `Nats-Msg-Id` and `Tailor-Type` are always set by the bus. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What JetStream answered to a publish. */
export interface PublishAck {
  /** Sequence of the message in its stream (of the first copy for a duplicate). */
  readonly seq: number;
  /** True when the msgID was seen within the duplicate window and nothing was stored. */
  readonly duplicate: boolean;
}

/** Options of {@link Bus.readDeadLetters}. */
export interface ReadDeadLettersOptions {
  /**
   * Dead letters returned at most, oldest first.
   * @default 100
   */
  readonly limit?: number;
}

/** Options of {@link Bus.close}. */
export interface CloseOptions {
  /**
   * How long to wait for handed-out deliveries to be settled before draining.
   * @default 10_000
   */
  readonly graceMs?: number;
}

/** A service's connection to the event bus. Create with {@link connectBus}. */
export interface Bus {
  /** Prefix of every subject and stream of this bus. */
  readonly namespace: string;
  /**
   * Creates or updates the EVENTS, JOBS and DLQ streams and the catalogue
   * consumers. Idempotent and safe when several processes run it at once.
   */
  provision(options?: ProvisionOptions): Promise<void>;
  /**
   * Publishes an event and waits until JetStream stored it.
   * @throws {PublishError} when no stream stored it (e.g. not provisioned).
   */
  publish<T extends Message>(
    event: EventType<T>,
    message: MessageInitShape<GenMessage<NoInfer<T>>>,
    options: PublishOptions,
  ): Promise<PublishAck>;
  /**
   * Consumes a durable consumer (created or updated from the spec first).
   * Iteration ends when `signal` aborts, the caller breaks, or the bus closes.
   * Undecodable messages and messages out of deliveries never reach the
   * caller: they are dead-lettered.
   */
  consume<T extends Message>(
    consumer: ConsumerSpec<T>,
    options?: ConsumeOptions,
  ): AsyncIterable<Delivery<T>>;
  /** Creates or updates one durable consumer from its spec. */
  provisionConsumer<T extends Message>(consumer: ConsumerSpec<T>): Promise<void>;
  /**
   * Reads dead letters from the DLQ stream (all processes' dead letters),
   * oldest first; only those of `consumerName` when given.
   */
  readDeadLetters(consumerName?: string, options?: ReadDeadLettersOptions): Promise<DeadLetter[]>;
  /** Observes the dead letters stored by this connection. */
  readonly deadLetters: DeadLetterObserver;
  /** True while the connection to NATS is up. */
  isConnected(): boolean;
  /**
   * Stops every consume loop, waits for handed-out deliveries to settle
   * (up to `graceMs`) and for pending dead letters, then drains the connection.
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Connects to NATS and returns a {@link Bus}. Fails fast with
 * {@link BusConnectionError} when no server answers; after that it
 * reconnects as configured.
 */
export async function connectBus(options: ConnectBusOptions): Promise<Bus> {
  const namespace = validateNamespace(options.namespace ?? defaultNamespace);
  const logger = options.logger.child({ component: "bus", namespace });
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers.split(",").map((server) => server.trim()),
      name: options.name,
      maxReconnectAttempts: options.reconnect?.maxAttempts ?? -1,
      reconnectTimeWait: options.reconnect?.waitMs ?? 2_000,
      timeout: options.connectTimeoutMs ?? 5_000,
    });
  } catch (error) {
    throw new BusConnectionError(options.servers, { cause: error });
  }
  try {
    const jsm = await nc.jetstreamManager();
    logger.debug({ server: nc.getServer() }, "connected to NATS");
    return new NatsBus(nc, jsm, namespace, logger);
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw new BusConnectionError(options.servers, {
      cause: new BusError(`JetStream is not available: ${describe(error)}`, { cause: error }),
    });
  }
}

/** Nak reasons remembered per process, at most; the oldest are forgotten first. */
const maxRememberedReasons = 10_000;

class NatsBus implements Bus {
  readonly namespace: string;
  readonly deadLetters: DeadLetterListeners;

  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #logger: Logger;
  readonly #closing = new AbortController();
  readonly #background = new Set<Promise<void>>();
  readonly #reasons = new Map<string, string>();
  readonly #status: AsyncIterable<Status>;
  readonly #statusLoop: Promise<void>;
  #connected = true;
  #handedOut = 0;
  #settledWaiters: Array<() => void> = [];
  #closePromise: Promise<void> | undefined;

  constructor(nc: NatsConnection, jsm: JetStreamManager, namespace: string, logger: Logger) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = nc.jetstream();
    this.namespace = namespace;
    this.#logger = logger;
    this.deadLetters = new DeadLetterListeners(logger);
    this.#status = nc.status();
    this.#statusLoop = this.#watchStatus();
    // When reconnection gives up the connection closes by itself; stop consumers too.
    void nc.closed().then(() => {
      this.#connected = false;
      this.#closing.abort();
      // nats.js does not end status iterators on close; end ours explicitly.
      (this.#status as Partial<QueuedIterator<Status>>).stop?.();
    });
  }

  async provision(options: ProvisionOptions = {}): Promise<void> {
    this.#assertOpen("provision");
    await provisionStreams(this.#jsm, this.namespace, options);
    const catalogue: readonly ConsumerSpec<Message>[] = Object.values(consumers);
    for (const spec of catalogue) {
      // Per-instance templates are created by each process under its own name.
      if (spec.perInstance === true) continue;
      await ensureConsumer(this.#jsm, this.namespace, spec);
    }
  }

  async provisionConsumer<T extends Message>(consumer: ConsumerSpec<T>): Promise<void> {
    this.#assertOpen("provision a consumer");
    await ensureConsumer(this.#jsm, this.namespace, consumer);
  }

  async publish<T extends Message>(
    event: EventType<T>,
    message: MessageInitShape<GenMessage<NoInfer<T>>>,
    options: PublishOptions,
  ): Promise<PublishAck> {
    const subject = subjectFor(this.namespace, event);
    if (options.msgID.trim() === "") {
      throw new BusConfigError(`publish ${subject}: msgID must not be empty`);
    }
    // Publishing stays allowed while close() waits for handlers: they may
    // publish follow-up events before they ack.
    if (this.#nc.isClosed()) throw new BusClosedError("publish");
    const data = toBinary(event.schema, create(event.schema, message));
    const h = natsHeaders();
    for (const [name, value] of Object.entries(options.headers ?? {})) h.set(name, value);
    h.set(busHeaders.type, event.schema.typeName);
    try {
      const ack = await this.#js.publish(subject, data, {
        msgID: options.msgID,
        headers: h,
        // Refuses to store the event in any stream but the catalogue's one.
        expect: { streamName: streamName(this.namespace, event.stream) },
      });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      throw new PublishError(subject, options.msgID, {
        cause: error,
        ...(isNoResponders(error) ? { hint: "no stream takes this subject: run provision()" } : {}),
      });
    }
  }

  consume<T extends Message>(
    consumer: ConsumerSpec<T>,
    options: ConsumeOptions = {},
  ): AsyncIterable<Delivery<T>> {
    this.#assertOpen("consume");
    return consume(this.#consumeContext(), consumer, options);
  }

  async readDeadLetters(
    consumerName?: string,
    options: ReadDeadLettersOptions = {},
  ): Promise<DeadLetter[]> {
    this.#assertOpen("read dead letters");
    const limit = options.limit ?? 100;
    const stream = streamName(this.namespace, "DLQ");
    const filter =
      consumerName === undefined
        ? `${this.namespace}.dlq.>`
        : deadLetterSubject(this.namespace, consumerName);
    // A throwaway consumer in memory: reading must not disturb anyone else's.
    const info = await this.#jsm.consumers
      .add(stream, {
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.All,
        filter_subject: filter,
        inactive_threshold: nanos(60_000),
        mem_storage: true,
      })
      .catch((error: unknown) => {
        throw BusError.from(error, `cannot read dead letters from ${stream} (${filter})`);
      });
    try {
      const wanted = Math.min(limit, info.num_pending);
      const found: DeadLetter[] = [];
      if (wanted <= 0) return found;
      const reader = await this.#js.consumers.get(stream, info.name);
      while (found.length < wanted) {
        const batch = await reader.fetch({ max_messages: wanted - found.length, expires: 2_000 });
        let received = 0;
        for await (const msg of batch) {
          received++;
          found.push(parseDeadLetter(msg));
        }
        if (received === 0) break;
      }
      return found;
    } finally {
      await this.#jsm.consumers.delete(stream, info.name).catch(() => undefined);
    }
  }

  isConnected(): boolean {
    return this.#connected && !this.#nc.isClosed();
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closePromise ??= this.#close(options.graceMs ?? 10_000);
    return this.#closePromise;
  }

  async #close(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    this.#closing.abort();
    await this.#waitForSettled(graceMs);
    await Promise.allSettled([...this.#background]);
    if (!this.#nc.isClosed()) {
      // drain() needs the server to answer; with NATS down (and reconnects
      // retried forever) it would never resolve, so a stopping service would
      // hang. Drain only while connected, and never past the grace period.
      const drained = this.isConnected()
        ? await withTimeout(this.#nc.drain(), Math.max(deadline - Date.now(), 1_000)).catch(
            (error: unknown) => {
              this.#logger.warn({ err: error }, "draining the NATS connection failed");
              return false;
            },
          )
        : false;
      if (!drained && !this.#nc.isClosed()) await this.#nc.close().catch(() => undefined);
    }
    await this.#statusLoop;
  }

  async #waitForSettled(graceMs: number): Promise<void> {
    if (this.#handedOut === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    const settled = new Promise<void>((resolve) => this.#settledWaiters.push(resolve));
    await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    if (this.#handedOut > 0) {
      this.#logger.warn(
        { unsettled: this.#handedOut },
        "closing with unsettled deliveries; the server redelivers them",
      );
    }
  }

  #consumeContext(): ConsumeContext {
    return {
      namespace: this.namespace,
      logger: this.#logger,
      js: this.#js,
      closed: this.#closing.signal,
      ackTimeoutMs: 5_000,
      ensureConsumer: (spec) => ensureConsumer(this.#jsm, this.namespace, spec),
      deadLetter: (spec, msg, reason) => this.#deadLetter(spec, msg, reason),
      rememberReason: (consumer, seq, reason) => {
        const key = `${consumer}:${seq}`;
        this.#reasons.delete(key);
        this.#reasons.set(key, reason);
        if (this.#reasons.size > maxRememberedReasons) {
          const oldest = this.#reasons.keys().next();
          if (oldest.done !== true) this.#reasons.delete(oldest.value);
        }
      },
      recallReason: (consumer, seq) => this.#reasons.get(`${consumer}:${seq}`),
      forgetReason: (consumer, seq) => {
        this.#reasons.delete(`${consumer}:${seq}`);
      },
      handedOut: (delta) => {
        this.#handedOut += delta;
        if (this.#handedOut === 0) {
          const waiters = this.#settledWaiters;
          this.#settledWaiters = [];
          for (const waiter of waiters) waiter();
        }
      },
    };
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch(() => undefined);
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }

  /**
   * Stores a copy of `msg` in the DLQ, then terms the original and tells the
   * observers. Never rejects: if the DLQ cannot store it, the original is
   * nak'ed so it comes back (unless it already used its last delivery).
   */
  #deadLetter(spec: ConsumerSpec<Message>, msg: JsMsg, rawReason: string): Promise<void> {
    const work = this.#storeDeadLetter(spec, msg, headerSafeReason(rawReason));
    this.#track(work);
    return work;
  }

  async #storeDeadLetter(spec: ConsumerSpec<Message>, msg: JsMsg, reason: string): Promise<void> {
    const streamSeq = msg.info.streamSequence;
    const deliveries = msg.info.deliveryCount;
    const log = this.#logger.child({
      consumer: spec.name,
      subject: msg.subject,
      streamSeq,
      deliveries,
    });
    const { headers, msgID, type } = deadLetterHeadersFor(msg, spec.name, reason);
    const subject = deadLetterSubject(this.namespace, spec.name);
    let stored: number | undefined;
    let lastError: unknown;
    for (let attempt = 1; attempt <= 3 && stored === undefined; attempt++) {
      try {
        const ack = await this.#js.publish(subject, msg.data, {
          // One dead letter per original message, however often this is retried.
          msgID: `${spec.name}:${streamSeq}`,
          headers,
          expect: { streamName: streamName(this.namespace, "DLQ") },
        });
        stored = ack.seq;
      } catch (error) {
        lastError = error;
        msg.working();
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
    if (stored === undefined) {
      const last = deliveries > spec.maxDeliver;
      log.error(
        { err: lastError, reason },
        last
          ? "cannot store dead letter; the message will not be redelivered"
          : "cannot store dead letter; the message will be redelivered",
      );
      msg.nak(5_000);
      return;
    }
    // Plain term: a term reason needs server 2.11, and the reason is in the DLQ.
    msg.term();
    // The flush makes sure the server processed the term before observers run.
    await this.#nc.flush().catch(() => undefined);
    this.#reasons.delete(`${spec.name}:${streamSeq}`);
    log.warn({ reason, deadLetterSeq: stored }, "message dead-lettered");
    this.deadLetters.notify({
      consumer: spec.name,
      subject: msg.subject,
      stream: msg.info.stream,
      streamSeq,
      deliveries,
      reason,
      ...(msgID === undefined ? {} : { msgID }),
      ...(type === undefined ? {} : { type }),
      deadLetterSeq: stored,
      data: msg.data,
    });
  }

  async #watchStatus(): Promise<void> {
    for await (const status of this.#status) {
      switch (status.type) {
        case Events.Disconnect:
          this.#connected = false;
          this.#logger.warn({ server: status.data }, "disconnected from NATS");
          break;
        case Events.Reconnect:
          this.#connected = true;
          this.#logger.info({ server: status.data }, "reconnected to NATS");
          break;
        case Events.Error:
          this.#logger.error({ err: status.data }, "NATS connection error");
          break;
        default:
          break;
      }
    }
  }

  #assertOpen(operation: string): void {
    if (this.#closing.signal.aborted) throw new BusClosedError(operation);
  }
}

function isNoResponders(error: unknown): boolean {
  return error instanceof NatsError && error.code === "503";
}

/** Resolves true when `work` settles within `ms`, false when the time runs out first. */
async function withTimeout(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
