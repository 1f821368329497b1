/**
 * Dead letters: copies of messages a consumer gave up on, stored on
 * `${namespace}.dlq.${consumer}` in the DLQ stream with headers saying where
 * the message came from and why it was given up.
 */
import type { Logger } from "@tailor/log";
import { type JsMsg, type MsgHdrs, headers as natsHeaders } from "nats";

/** Headers every bus publish carries. */
export const busHeaders = {
  /** Stable id of the message; JetStream drops repeats within the duplicate window. */
  msgID: "Nats-Msg-Id",
  /** Fully-qualified protobuf type of the payload, e.g. `tailor.events.v1.BuildQueued`. */
  type: "Tailor-Type",
} as const;

/** Headers of a message in the DLQ stream, describing the original. */
export const deadLetterHeaders = {
  /** Durable consumer that gave up. */
  consumer: "Tailor-Dead-Letter-Consumer",
  /** Subject the original was published on. */
  subject: "Tailor-Dead-Letter-Subject",
  /** Stream that keeps (or kept) the original. */
  stream: "Tailor-Dead-Letter-Stream",
  /** Sequence of the original in that stream. */
  streamSeq: "Tailor-Dead-Letter-Stream-Seq",
  /** How many times the original was delivered. */
  deliveries: "Tailor-Dead-Letter-Deliveries",
  /** Why the consumer gave up. */
  reason: "Tailor-Dead-Letter-Reason",
  /** `Nats-Msg-Id` of the original, when it had one. */
  msgID: "Tailor-Dead-Letter-Msg-Id",
} as const;

/** A message a consumer gave up on, with the original payload bytes. */
export interface DeadLetter {
  /** Durable consumer that gave up. */
  readonly consumer: string;
  /** Subject the original was published on. */
  readonly subject: string;
  /** Stream that keeps the original. */
  readonly stream: string;
  /** Sequence of the original in its stream. */
  readonly streamSeq: number;
  /** How many times the original was delivered. */
  readonly deliveries: number;
  /** Why: a handler's `term` reason, a decode error, or "max deliveries exceeded…". */
  readonly reason: string;
  /** `Nats-Msg-Id` of the original, when it had one. */
  readonly msgID?: string;
  /** `Tailor-Type` of the original, when it had one. */
  readonly type?: string;
  /** Sequence of the dead letter in the DLQ stream. */
  readonly deadLetterSeq: number;
  /** The original payload, byte for byte. */
  readonly data: Uint8Array;
}

/** Receives every dead letter stored by one bus connection. */
export type DeadLetterListener = (deadLetter: DeadLetter) => void;

/** Observes the dead-lettering done by one bus connection (not by other processes). */
export interface DeadLetterObserver {
  /** Calls `listener` after each dead letter is stored; returns a function that stops it. */
  on(listener: DeadLetterListener): () => void;
}

/** Listener registry behind {@link DeadLetterObserver}; a throwing listener is logged, not fatal. */
export class DeadLetterListeners implements DeadLetterObserver {
  readonly #listeners = new Set<DeadLetterListener>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on(listener: DeadLetterListener): () => void {
    // Wrapping makes registering the same function twice yield two subscriptions.
    const entry: DeadLetterListener = (deadLetter) => listener(deadLetter);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  notify(deadLetter: DeadLetter): void {
    for (const listener of this.#listeners) {
      try {
        listener(deadLetter);
      } catch (error) {
        this.#logger.error(
          { err: error, consumer: deadLetter.consumer },
          "dead-letter listener threw",
        );
      }
    }
  }
}

/** Headers of the DLQ copy of `msg`; `reason` must already be {@link headerSafeReason}. */
export function deadLetterHeadersFor(
  msg: JsMsg,
  consumer: string,
  reason: string,
): { headers: MsgHdrs; msgID: string | undefined; type: string | undefined } {
  const original = msg.headers;
  const msgID = headerValue(original, busHeaders.msgID);
  const type = headerValue(original, busHeaders.type);
  const out = natsHeaders();
  out.set(deadLetterHeaders.consumer, consumer);
  out.set(deadLetterHeaders.subject, msg.subject);
  out.set(deadLetterHeaders.stream, msg.info.stream);
  out.set(deadLetterHeaders.streamSeq, String(msg.info.streamSequence));
  out.set(deadLetterHeaders.deliveries, String(msg.info.deliveryCount));
  out.set(deadLetterHeaders.reason, reason);
  if (msgID !== undefined) out.set(deadLetterHeaders.msgID, msgID);
  if (type !== undefined) out.set(busHeaders.type, type);
  return { headers: out, msgID, type };
}

/** Parses a message read from the DLQ stream back into a {@link DeadLetter}. */
export function parseDeadLetter(msg: JsMsg): DeadLetter {
  const h = msg.headers;
  const msgID = headerValue(h, deadLetterHeaders.msgID);
  const type = headerValue(h, busHeaders.type);
  return {
    consumer:
      headerValue(h, deadLetterHeaders.consumer) ?? msg.subject.split(".").slice(2).join("."),
    subject: headerValue(h, deadLetterHeaders.subject) ?? "",
    stream: headerValue(h, deadLetterHeaders.stream) ?? "",
    streamSeq: Number(headerValue(h, deadLetterHeaders.streamSeq) ?? 0),
    deliveries: Number(headerValue(h, deadLetterHeaders.deliveries) ?? 0),
    reason: headerValue(h, deadLetterHeaders.reason) ?? "",
    ...(msgID === undefined ? {} : { msgID }),
    ...(type === undefined ? {} : { type }),
    deadLetterSeq: msg.info.streamSequence,
    data: msg.data,
  };
}

/** The first value of header `name`, or undefined when absent or empty. */
export function headerValue(h: MsgHdrs | undefined, name: string): string | undefined {
  if (h === undefined || !h.has(name)) return undefined;
  const value = h.get(name);
  return value === "" ? undefined : value;
}

/** Header values cannot span lines, and a reason is a summary: flatten and cap it. */
export function headerSafeReason(value: string): string {
  const flat = value.replace(/[\r\n]+/g, " ").trim();
  return flat.length > 1_000 ? `${flat.slice(0, 997)}...` : flat;
}
