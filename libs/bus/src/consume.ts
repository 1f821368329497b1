/**
 * The consume loop: pulls only as many messages as there are free
 * concurrency slots, dead-letters what cannot be handed out, and yields the
 * rest as typed deliveries until the caller stops, the signal aborts or the
 * bus closes.
 */
import { fromBinary, type Message } from "@bufbuild/protobuf";
import type { Logger } from "@tailor/log";
import type { ConsumerMessages, JetStreamClient, JsMsg } from "nats";
import { type ConsumerSpec, type EventType, eventForKey, streamName } from "./catalogue.js";
import { busHeaders, headerValue } from "./dead-letters.js";
import {
  type Delivery,
  type DeliveryControl,
  JetStreamDelivery,
  maxDeliveriesReason,
} from "./delivery.js";
import { BusConfigError, BusError, DecodeError, describe } from "./errors.js";
import { apiErrorCode, jetStreamErrorCodes } from "./provision.js";
import { sleepUnlessAborted } from "./sleep.js";

/** Options of `Bus.consume`. */
export interface ConsumeOptions {
  /**
   * Deliveries handed out and not yet settled, at most.
   * @default 1
   */
  readonly concurrency?: number;
  /** Ends the iteration when aborted. */
  readonly signal?: AbortSignal;
}

/** What the loop needs from the bus. */
export interface ConsumeContext {
  readonly namespace: string;
  readonly logger: Logger;
  readonly js: JetStreamClient;
  /** Aborted when the bus closes (or its connection is lost for good). */
  readonly closed: AbortSignal;
  readonly ackTimeoutMs: number;
  ensureConsumer(spec: ConsumerSpec<Message>): Promise<void>;
  /** Stores `msg` in the DLQ and terms it; never rejects; close() waits for it. */
  deadLetter(spec: ConsumerSpec<Message>, msg: JsMsg, reason: string): Promise<void>;
  rememberReason(consumer: string, streamSeq: number, reason: string): void;
  recallReason(consumer: string, streamSeq: number): string | undefined;
  forgetReason(consumer: string, streamSeq: number): void;
  /** Counts deliveries handed out and not settled, so close() can wait for them. */
  handedOut(delta: 1 | -1): void;
}

/** How long one pull waits for messages before the loop pulls again. */
const fetchExpiresMs = 5_000;

/** Consumes `spec` as an async iterable of deliveries (see {@link ConsumeOptions}). */
export function consume<T extends Message>(
  context: ConsumeContext,
  spec: ConsumerSpec<T>,
  options: ConsumeOptions = {},
): AsyncIterable<Delivery<T>> {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new BusConfigError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  return {
    [Symbol.asyncIterator]: () =>
      run(context, spec, concurrency, options.signal)[Symbol.asyncIterator](),
  };
}

async function* run<T extends Message>(
  context: ConsumeContext,
  spec: ConsumerSpec<T>,
  concurrency: number,
  callerSignal: AbortSignal | undefined,
): AsyncGenerator<Delivery<T>, void, undefined> {
  const signal =
    callerSignal === undefined ? context.closed : AbortSignal.any([callerSignal, context.closed]);
  const logger = context.logger.child({ consumer: spec.name });
  const slots = new Slots(concurrency);
  let batch: ConsumerMessages | undefined;
  const onAbort = (): void => {
    batch?.stop();
    slots.wake();
  };
  signal.addEventListener("abort", onAbort);
  const control = deliveryControl(context, spec, logger, slots);
  try {
    if (signal.aborted) return;
    const general: ConsumerSpec<Message> = spec;
    await context.ensureConsumer(general);
    const consumer = await context.js.consumers
      .get(streamName(context.namespace, spec.stream), spec.name)
      .catch((error: unknown) => {
        throw BusError.from(error, `cannot consume ${spec.name}`);
      });
    let failures = 0;
    while (!signal.aborted) {
      const free = await slots.waitForFree(signal);
      if (signal.aborted) break;
      let messages: AsyncIterator<JsMsg> | undefined;
      try {
        batch = await consumer.fetch({ max_messages: free, expires: fetchExpiresMs });
        messages = batch[Symbol.asyncIterator]();
        if (signal.aborted) batch.stop();
        for (;;) {
          const next = await messages.next();
          if (next.done === true) break;
          const msg = next.value;
          if (signal.aborted) {
            await handBack(context, general, msg);
            continue;
          }
          const delivery = await prepare(context, spec, msg, control);
          if (delivery === undefined) continue;
          slots.take();
          context.handedOut(1);
          yield delivery;
        }
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        logger.warn({ err: error, failures }, "pulling messages failed; retrying");
        if (apiErrorCode(error) === jetStreamErrorCodes.consumerNotFound || isGone(error)) {
          // Someone deleted the consumer: recreate it from the spec.
          await context.ensureConsumer(general).catch((cause: unknown) => {
            logger.error({ err: cause }, "cannot recreate consumer");
          });
        }
        await sleepUnlessAborted(backoffMs(failures), signal);
      } finally {
        const current = batch;
        batch = undefined;
        if (current !== undefined && messages !== undefined) {
          await drainUnhanded(context, general, current, messages);
        }
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    batch?.stop();
  }
}

/**
 * Hands back a pulled message that will not be handled now. Normally a nak,
 * so another process gets it at once; but the extra server-side delivery
 * (past maxDeliver) is the bus's only chance to dead-letter the message —
 * a nak there would let the server drop it silently — so it is dead-lettered.
 */
async function handBack(
  context: ConsumeContext,
  spec: ConsumerSpec<Message>,
  msg: JsMsg,
): Promise<void> {
  if (msg.info.deliveryCount > spec.maxDeliver) {
    const reason = maxDeliveriesReason(context.recallReason(spec.name, msg.info.streamSequence));
    await context.deadLetter(spec, msg, reason);
    return;
  }
  msg.nak();
}

/**
 * Messages already pulled but not handed out (the caller stopped early) are
 * handed back so another process gets them now rather than after the ack wait.
 */
async function drainUnhanded(
  context: ConsumeContext,
  spec: ConsumerSpec<Message>,
  batch: ConsumerMessages,
  messages: AsyncIterator<JsMsg>,
) {
  batch.stop();
  try {
    for (;;) {
      const next = await messages.next();
      if (next.done === true) return;
      await handBack(context, spec, next.value);
    }
  } catch {
    // The pull ended with an error; nothing is left to hand back.
  }
}

/** Turns a message into a delivery, or dead-letters it and returns undefined. */
async function prepare<T extends Message>(
  context: ConsumeContext,
  spec: ConsumerSpec<T>,
  msg: JsMsg,
  control: DeliveryControl,
): Promise<JetStreamDelivery<T> | undefined> {
  const general: ConsumerSpec<Message> = spec;
  const streamSeq = msg.info.streamSequence;
  if (msg.info.deliveryCount > spec.maxDeliver) {
    // The extra server-side delivery: the handler had all its tries (or
    // crashed on the last one), so the bus dead-letters it here.
    const reason = maxDeliveriesReason(context.recallReason(spec.name, streamSeq));
    await context.deadLetter(general, msg, reason);
    return undefined;
  }
  const prefix = `${context.namespace}.`;
  const key = msg.subject.startsWith(prefix) ? msg.subject.slice(prefix.length) : msg.subject;
  const event = eventForKey(spec, key);
  if (event === undefined) {
    await context.deadLetter(
      general,
      msg,
      `no event type for subject ${msg.subject} in consumer ${spec.name}`,
    );
    return undefined;
  }
  let message: T;
  try {
    message = decode(event, msg);
  } catch (error) {
    await context.deadLetter(general, msg, describe(error));
    return undefined;
  }
  return new JetStreamDelivery(msg, event, message, control);
}

/** Decodes a payload as the event's message, checking the `Tailor-Type` header when present. */
export function decode<T extends Message>(event: EventType<T>, msg: JsMsg): T {
  const typeName = event.schema.typeName;
  const declared = headerValue(msg.headers, busHeaders.type);
  if (declared !== undefined && declared !== typeName) {
    throw new DecodeError(msg.subject, typeName, `payload is declared as ${declared}`);
  }
  try {
    return fromBinary(event.schema, msg.data);
  } catch (error) {
    throw new DecodeError(msg.subject, typeName, describe(error), { cause: error });
  }
}

function deliveryControl(
  context: ConsumeContext,
  spec: ConsumerSpec<Message>,
  logger: Logger,
  slots: Slots,
): DeliveryControl {
  return {
    consumer: spec.name,
    maxDeliver: spec.maxDeliver,
    ackWaitMs: spec.ackWaitMs,
    ackTimeoutMs: context.ackTimeoutMs,
    release: () => {
      slots.give();
      context.handedOut(-1);
    },
    deadLetter: (msg, reason) => context.deadLetter(spec, msg, reason),
    rememberReason: (seq, reason) => context.rememberReason(spec.name, seq, reason),
    recallReason: (seq) => context.recallReason(spec.name, seq),
    forgetReason: (seq) => context.forgetReason(spec.name, seq),
    onExpired: (delivery) => {
      logger.warn(
        { subject: delivery.subject, streamSeq: delivery.streamSeq, ackWaitMs: spec.ackWaitMs },
        "delivery not settled within the ack wait; the server redelivers it",
      );
    },
  };
}

/** Counts free concurrency slots; `waitForFree` resolves when at least one is free. */
class Slots {
  #free: number;
  #waiters: Array<() => void> = [];

  constructor(size: number) {
    this.#free = size;
  }

  take(): void {
    this.#free--;
  }

  give(): void {
    this.#free++;
    this.wake();
  }

  wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  async waitForFree(signal: AbortSignal): Promise<number> {
    while (this.#free <= 0 && !signal.aborted) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.#free;
  }
}

function isGone(error: unknown): boolean {
  const message = describe(error).toLowerCase();
  return message.includes("consumer not found") || message.includes("consumer deleted");
}

function backoffMs(failures: number): number {
  const base = Math.min(10_000, 250 * 2 ** Math.min(failures, 6));
  // Jitter keeps many processes from retrying in lockstep after an outage.
  return base / 2 + Math.random() * (base / 2);
}
