/**
 * Error classes of `@tailor/bus`, one per condition, so callers branch on
 * `instanceof` rather than on message text. Every class keeps the underlying
 * NATS error as `cause`.
 */

/** Base class of every error thrown by `@tailor/bus`. */
export class BusError extends Error {
  override name = "BusError";

  /**
   * Normalises anything thrown into a {@link BusError}, keeping bus errors
   * as they are and wrapping everything else with `message` as context.
   */
  static from(cause: unknown, message = "bus operation failed"): BusError {
    if (cause instanceof BusError) return cause;
    return new BusError(`${message}: ${describe(cause)}`, { cause });
  }
}

/** A namespace, consumer definition or option is invalid; raised before any I/O. */
export class BusConfigError extends BusError {
  override name = "BusConfigError";
}

/** The bus could not connect to any of the given NATS servers. */
export class BusConnectionError extends BusError {
  override name = "BusConnectionError";

  /** The servers that were tried, as passed to `connectBus`. */
  readonly servers: string;

  constructor(servers: string, options: { cause: unknown }) {
    super(`cannot connect to NATS at ${servers}: ${describe(options.cause)}`, options);
    this.servers = servers;
  }
}

/** The bus was used after `close()` was called. */
export class BusClosedError extends BusError {
  override name = "BusClosedError";

  constructor(operation: string) {
    super(`cannot ${operation}: the bus is closed`);
  }
}

/** Creating or updating a stream or consumer failed. */
export class ProvisionError extends BusError {
  override name = "ProvisionError";

  /** Stream name, or `stream/consumer` for a consumer. */
  readonly resource: string;

  constructor(resource: string, options: { cause: unknown }) {
    super(`cannot provision ${resource}: ${describe(options.cause)}`, options);
    this.resource = resource;
  }
}

/** JetStream did not store a published message. */
export class PublishError extends BusError {
  override name = "PublishError";

  /** Subject the message was published on. */
  readonly subject: string;
  /** The `Nats-Msg-Id` of the message. */
  readonly msgID: string;

  constructor(subject: string, msgID: string, options: { cause: unknown; hint?: string }) {
    const hint = options.hint === undefined ? "" : ` (${options.hint})`;
    super(`cannot publish ${subject} (msgID ${msgID}): ${describe(options.cause)}${hint}`, options);
    this.subject = subject;
    this.msgID = msgID;
  }
}

/** A stored payload is not a valid encoding of the message its subject promises. */
export class DecodeError extends BusError {
  override name = "DecodeError";

  /** Subject the payload arrived on. */
  readonly subject: string;
  /** Protobuf type the payload was decoded as. */
  readonly typeName: string;

  constructor(subject: string, typeName: string, detail: string, options?: { cause: unknown }) {
    super(`cannot decode ${subject} as ${typeName}: ${detail}`, options);
    this.subject = subject;
    this.typeName = typeName;
  }
}

/** The server did not confirm an acknowledgement, so the message may be redelivered. */
export class AckError extends BusError {
  override name = "AckError";

  /** Subject of the message whose ack was not confirmed. */
  readonly subject: string;
  /** Stream sequence of the message. */
  readonly streamSeq: number;

  constructor(subject: string, streamSeq: number, options: { cause: unknown }) {
    super(
      `ack of ${subject} (stream seq ${streamSeq}) was not confirmed: ${describe(options.cause)}`,
      options,
    );
    this.subject = subject;
    this.streamSeq = streamSeq;
  }
}

/** A private `nats-server` could not be found, started or stopped. */
export class NatsServerError extends BusError {
  override name = "NatsServerError";

  /** What the server wrote to stderr before failing (may be empty). */
  readonly stderr: string;

  constructor(message: string, stderr: string, options?: { cause: unknown }) {
    // The startup banner is long: show the error lines, or else the last lines.
    const lines = stderr.trim() === "" ? [] : stderr.trim().split("\n");
    const errors = lines.filter((line) => /\[(ERR|FTL)\]/.test(line));
    const shown = (errors.length > 0 ? errors : lines).slice(-12).join("\n");
    super(shown === "" ? message : `${message}:\n${shown}`, options);
    this.stderr = stderr;
  }
}

/** Renders an unknown thrown value as a one-line description. */
export function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  return String(value);
}
