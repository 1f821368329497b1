/**
 * A delivery: one decoded message handed to a handler, with the explicit
 * settlement calls JetStream needs (ack, nak, term, working).
 */
import type { Message } from "@bufbuild/protobuf";
import type { JsMsg } from "nats";
import type { EventType } from "./catalogue.js";
import { busHeaders, headerValue } from "./dead-letters.js";
import { AckError } from "./errors.js";

/**
 * One message handed to a handler. Settle every delivery exactly once with
 * {@link Delivery.ack}, {@link Delivery.nak} or {@link Delivery.term}; later
 * calls are ignored. `message` is the union of the consumer's message types:
 * narrow it with `delivery.is(events.x)` or `delivery.message.$typeName`.
 */
export interface Delivery<T extends Message = Message> {
  /** Subject the message was published on, including the namespace. */
  readonly subject: string;
  /** The catalogue entry matched from the subject. */
  readonly event: EventType<T>;
  /** The decoded payload. */
  readonly message: T;
  /** `Nats-Msg-Id` the publisher gave, the key for idempotent handling. */
  readonly msgID: string | undefined;
  /** 1 on first delivery, 2 on the first redelivery, and so on. */
  readonly deliveryCount: number;
  /** Sequence of the message in its stream. */
  readonly streamSeq: number;
  /** When the stream stored the message. */
  readonly publishedAt: Date;
  /** Message headers (first value of each). */
  readonly headers: Readonly<Record<string, string>>;
  /** True once ack, nak or term was called, or the ack wait ran out. */
  readonly settled: boolean;
  /** True when the delivery carries `event`; narrows `message` to its type. */
  is<U extends Message>(event: EventType<U>): this is Delivery<U>;
  /** Confirms processing; resolves once the server recorded it (rejects with {@link AckError}). */
  ack(): Promise<void>;
  /**
   * Asks for redelivery after `delayMs` (immediately when omitted). `reason`
   * becomes the dead-letter reason if the deliveries run out. On the last
   * allowed delivery the message is dead-lettered at once instead.
   */
  nak(delayMs?: number, reason?: string): void;
  /**
   * Gives up on the message: stores it in the DLQ with `reason`, then stops
   * its redelivery. Resolves when done; never rejects (failures are logged and
   * the message is left for redelivery).
   */
  term(reason: string): Promise<void>;
  /** Resets the ack wait timer: call it while a long handler makes progress. */
  working(): void;
}

/** What a delivery needs from the loop that handed it out. */
export interface DeliveryControl {
  readonly consumer: string;
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  readonly ackTimeoutMs: number;
  /** Frees the delivery's concurrency slot. */
  release(): void;
  /** Stores the message in the DLQ and terms it; never rejects. */
  deadLetter(msg: JsMsg, reason: string): Promise<void>;
  /** Keeps a nak reason for the dead letter that may follow. */
  rememberReason(streamSeq: number, reason: string): void;
  recallReason(streamSeq: number): string | undefined;
  forgetReason(streamSeq: number): void;
  onExpired(delivery: { readonly subject: string; readonly streamSeq: number }): void;
}

/** The dead-letter reason when a message used up its deliveries. */
export function maxDeliveriesReason(lastReason: string | undefined): string {
  return lastReason === undefined
    ? "max deliveries exceeded"
    : `max deliveries exceeded; last error: ${lastReason}`;
}

/** {@link Delivery} over a JetStream message. */
export class JetStreamDelivery<T extends Message> implements Delivery<T> {
  readonly subject: string;
  readonly event: EventType<T>;
  readonly message: T;
  readonly msgID: string | undefined;
  readonly deliveryCount: number;
  readonly streamSeq: number;
  readonly publishedAt: Date;
  readonly headers: Readonly<Record<string, string>>;

  readonly #msg: JsMsg;
  readonly #control: DeliveryControl;
  #settled = false;
  #released = false;
  #expired = false;
  #expiry: NodeJS.Timeout | undefined;

  constructor(msg: JsMsg, event: EventType<T>, message: T, control: DeliveryControl) {
    this.#msg = msg;
    this.#control = control;
    this.subject = msg.subject;
    this.event = event;
    this.message = message;
    this.msgID = headerValue(msg.headers, busHeaders.msgID);
    this.deliveryCount = msg.info.deliveryCount;
    this.streamSeq = msg.info.streamSequence;
    this.publishedAt = new Date(Math.floor(msg.info.timestampNanos / 1_000_000));
    this.headers = Object.freeze(headersRecord(msg));
    this.#armExpiry();
  }

  get settled(): boolean {
    return this.#settled;
  }

  is<U extends Message>(event: EventType<U>): this is Delivery<U> {
    return this.event.key === event.key;
  }

  async ack(): Promise<void> {
    if (!this.#claim()) return;
    try {
      await this.#msg.ackAck({ timeout: this.#control.ackTimeoutMs });
    } catch (error) {
      throw new AckError(this.subject, this.streamSeq, { cause: error });
    } finally {
      this.#control.forgetReason(this.streamSeq);
      this.#release();
    }
  }

  nak(delayMs?: number, reason?: string): void {
    if (!this.#claim()) return;
    if (reason !== undefined) this.#control.rememberReason(this.streamSeq, reason);
    if (this.deliveryCount >= this.#control.maxDeliver) {
      // That was the last try: dead-letter now instead of after the delay.
      const lastReason = this.#control.recallReason(this.streamSeq);
      // The bus tracks dead-lettering itself, so close() waits for it.
      void this.#control
        .deadLetter(this.#msg, maxDeliveriesReason(lastReason))
        .finally(() => this.#release());
      return;
    }
    this.#msg.nak(delayMs !== undefined && delayMs > 0 ? delayMs : undefined);
    this.#release();
  }

  async term(reason: string): Promise<void> {
    if (!this.#claim()) return;
    try {
      await this.#control.deadLetter(this.#msg, reason);
    } finally {
      this.#release();
    }
  }

  working(): void {
    if (this.#settled) return;
    this.#msg.working();
    // Past the local ack wait the slot is already freed; the server may still
    // accept the progress report, so send it, but do not re-arm the timer.
    if (!this.#expired) this.#armExpiry();
  }

  #claim(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    return true;
  }

  #release(): void {
    clearTimeout(this.#expiry);
    if (this.#released) return;
    this.#released = true;
    this.#control.release();
  }

  /**
   * Once the ack wait runs out the server may redeliver; freeing the slot
   * keeps a handler that forgot to settle from stalling the consumer. The
   * delivery stays unsettled: a late ack, nak or term is still sent, and the
   * server honours it unless it has already redelivered the message.
   */
  #armExpiry(): void {
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => {
      if (this.#settled) return;
      this.#expired = true;
      this.#control.onExpired(this);
      this.#release();
    }, this.#control.ackWaitMs);
    this.#expiry.unref();
  }
}

function headersRecord(msg: JsMsg): Record<string, string> {
  const record: Record<string, string> = {};
  const h = msg.headers;
  if (h === undefined) return record;
  for (const key of h.keys()) {
    const value = h.get(key);
    record[key] = value;
  }
  return record;
}
