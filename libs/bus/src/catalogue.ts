/**
 * The catalogue: every subject, stream and consumer of Tailor, declared in
 * this one file. Services never spell a subject or a stream name themselves;
 * they pass an entry of {@link events} or {@link consumers} to the bus.
 */
import type { Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import { eventsV1 } from "@tailor/proto";
import { BusConfigError } from "./errors.js";

/** The streams of a namespace: events (history), jobs (work queue), dead letters. */
export type StreamKind = "EVENTS" | "JOBS" | "DLQ";

/** A kind of event: where it travels (key, stream) and what it carries (schema). */
export interface EventType<T extends Message = Message> {
  /** Subject relative to the namespace, e.g. `build.queued`. */
  readonly key: string;
  /** Protobuf message every payload on the subject decodes as. */
  readonly schema: GenMessage<T>;
  /** Stream that keeps the event. */
  readonly stream: "EVENTS" | "JOBS";
  /** One sentence saying when the event is published. */
  readonly description: string;
}

/** The protobuf message type carried by an {@link EventType} (distributes over unions). */
export type MessageOf<E> = E extends EventType<infer T> ? T : never;

function eventType<T extends Message>(
  key: string,
  schema: GenMessage<T>,
  stream: "EVENTS" | "JOBS",
  description: string,
): EventType<T> {
  return Object.freeze({ key, schema, stream, description });
}

/** Every event type Tailor publishes; the subject is `${namespace}.${key}`. */
export const events = {
  organizationCreated: eventType(
    "entitlement.org.created",
    eventsV1.OrganizationCreatedSchema,
    "EVENTS",
    "An organization was created.",
  ),
  packagePublished: eventType(
    "catalog.package.published",
    eventsV1.PackagePublishedSchema,
    "EVENTS",
    "A new package version became available in a repository Tailor knows.",
  ),
  sourceImageUpdated: eventType(
    "catalog.source-image.updated",
    eventsV1.SourceImageUpdatedSchema,
    "EVENTS",
    "A source (base) image got a new version.",
  ),
  customImageUpdated: eventType(
    "catalog.custom-image.updated",
    eventsV1.CustomImageUpdatedSchema,
    "EVENTS",
    "An organization saved a new revision of a custom image.",
  ),
  buildQueued: eventType(
    "build.queued",
    eventsV1.BuildQueuedSchema,
    "EVENTS",
    "A build was accepted and is waiting for a worker.",
  ),
  buildStarted: eventType(
    "build.started",
    eventsV1.BuildStartedSchema,
    "EVENTS",
    "A worker began executing a build.",
  ),
  buildLog: eventType(
    "build.log",
    eventsV1.BuildLogLineSchema,
    "EVENTS",
    "One line of a running build's log.",
  ),
  buildSucceeded: eventType(
    "build.succeeded",
    eventsV1.BuildSucceededSchema,
    "EVENTS",
    "A build finished and its images were pushed.",
  ),
  buildFailed: eventType(
    "build.failed",
    eventsV1.BuildFailedSchema,
    "EVENTS",
    "A build ended with an error.",
  ),
  buildCancelled: eventType(
    "build.cancelled",
    eventsV1.BuildCancelledSchema,
    "EVENTS",
    "A build was cancelled before it finished.",
  ),
  buildJob: eventType(
    "jobs.build",
    eventsV1.BuildJobSchema,
    "JOBS",
    "A build for a builder worker to execute; each job goes to exactly one worker.",
  ),
} as const;

/** Union of every message type in the catalogue. */
export type EventMessage = MessageOf<(typeof events)[keyof typeof events]>;

/** @default namespace of subjects and streams. */
export const defaultNamespace = "tailor";

const namespacePattern = /^[A-Za-z0-9_-]+$/;

/** Throws {@link BusConfigError} unless `namespace` is one subject token. */
export function validateNamespace(namespace: string): string {
  if (!namespacePattern.test(namespace)) {
    throw new BusConfigError(
      `invalid namespace ${JSON.stringify(namespace)}: use letters, digits, "-" and "_" only`,
    );
  }
  return namespace;
}

/**
 * Name of a stream in a namespace: `${NS}_${stream}`, NS being the namespace
 * upper-cased with every character outside [A-Z0-9] replaced by "_"
 * (so namespaces "a-b" and "a_b" share streams).
 */
export function streamName(namespace: string, stream: StreamKind): string {
  validateNamespace(namespace);
  return `${namespace.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_${stream}`;
}

/** Subject an event type is published on: `${namespace}.${key}`. */
export function subjectFor(namespace: string, event: EventType): string {
  validateNamespace(namespace);
  return `${namespace}.${event.key}`;
}

/** Subject a consumer's dead letters are stored on: `${namespace}.dlq.${consumer}`. */
export function deadLetterSubject(namespace: string, consumerName: string): string {
  validateNamespace(namespace);
  return `${namespace}.dlq.${consumerName}`;
}

/** Retention of a stream, in the words of JetStream. */
export type StreamRetention = "limits" | "workqueue";

/** What a stream keeps, before a namespace is applied. */
export interface StreamSpec {
  /** Which stream. */
  readonly kind: StreamKind;
  /** Subject patterns relative to the namespace. */
  readonly subjects: readonly string[];
  /** `limits` keeps messages until max age; `workqueue` deletes each once acknowledged. */
  readonly retention: StreamRetention;
  /** Messages older than this are deleted. */
  readonly maxAgeMs: number;
  /** Publishes repeating a `Nats-Msg-Id` within this window are dropped as duplicates. */
  readonly duplicateWindowMs: number;
  /** Shown by `nats stream info`. */
  readonly description: string;
}

const minute = 60_000;
const day = 24 * 60 * minute;

/** The three streams of every namespace. */
export const streams: Readonly<Record<StreamKind, StreamSpec>> = {
  EVENTS: {
    kind: "EVENTS",
    subjects: ["entitlement.>", "catalog.>", "build.>"],
    retention: "limits",
    maxAgeMs: 7 * day,
    duplicateWindowMs: 2 * minute,
    description: "Tailor domain events (entitlement, catalog, build), kept for replay",
  },
  JOBS: {
    kind: "JOBS",
    subjects: ["jobs.>"],
    retention: "workqueue",
    maxAgeMs: 7 * day,
    duplicateWindowMs: 2 * minute,
    description: "Tailor work queue: each job is removed once one worker acknowledges it",
  },
  DLQ: {
    kind: "DLQ",
    subjects: ["dlq.>"],
    retention: "limits",
    maxAgeMs: 30 * day,
    duplicateWindowMs: 2 * minute,
    description: "Tailor dead letters: messages a consumer gave up on, one subject per consumer",
  },
};

/** How a durable consumer reads one stream; create with {@link defineConsumer}. */
export interface ConsumerSpec<T extends Message = Message> {
  /** Durable name, shared by every process that consumes with this spec. */
  readonly name: string;
  /** Stream read from. */
  readonly stream: "EVENTS" | "JOBS";
  /** Subject pattern relative to the namespace, e.g. `build.>`. */
  readonly filter: string;
  /**
   * Event types the consumer decodes; a message on any other subject is
   * dead-lettered. Every entry matches `filter` and lives in `stream`.
   */
  readonly events: readonly EventType<T>[];
  /** Time a handler has to settle a delivery (or call `working()`) before redelivery. */
  readonly ackWaitMs: number;
  /** Deliveries handed to handlers before the message is dead-lettered. */
  readonly maxDeliver: number;
  /** Unsettled deliveries the server allows across all processes of the consumer. */
  readonly maxAckPending: number;
  /** `all` reads the stream from its start; `new` only messages stored after creation. */
  readonly deliverPolicy: "all" | "new";
  /** Shown by `nats consumer info`. */
  readonly description: string;
  /**
   * The server deletes the consumer once nobody pulled from it for this long
   * (per-instance consumers, see {@link instanceConsumer}); unset: kept forever.
   */
  readonly inactiveThresholdMs?: number;
  /**
   * True for a template every process consumes its own copy of
   * ({@link instanceConsumer}); `Bus.provision` does not create it.
   */
  readonly perInstance?: boolean;
}

/** The message union a consumer spec delivers, e.g. `ConsumerMessage<typeof consumers.builderWorkers>`. */
export type ConsumerMessage<S> = S extends ConsumerSpec<infer T> ? T : never;

/** Input of {@link defineConsumer}; omitted limits take their defaults. */
export interface ConsumerDefinition<E extends readonly EventType[]> {
  /** Durable name: letters, digits, "-" and "_". */
  readonly name: string;
  /** Stream read from. */
  readonly stream: "EVENTS" | "JOBS";
  /** Subject pattern relative to the namespace, e.g. `build.>`. */
  readonly filter: string;
  /** Event types the consumer decodes (see {@link ConsumerSpec.events}). */
  readonly events: E;
  /** Shown by `nats consumer info`. */
  readonly description: string;
  /** @default 30_000 */
  readonly ackWaitMs?: number;
  /** @default 5 */
  readonly maxDeliver?: number;
  /** @default 1_000 */
  readonly maxAckPending?: number;
  /** @default "all" */
  readonly deliverPolicy?: "all" | "new";
  /** @default unset (the consumer is kept while unused) */
  readonly inactiveThresholdMs?: number;
  /** @default false (one durable shared by every process) */
  readonly perInstance?: boolean;
}

const durablePattern = /^[A-Za-z0-9_-]+$/;

/**
 * Declares a durable consumer, checking that its name is a valid durable
 * name, its filter a valid pattern, and every event type both matches the
 * filter and lives in the consumer's stream. The message type of its
 * deliveries is the union of its event types' messages.
 */
export function defineConsumer<const E extends readonly EventType[]>(
  definition: ConsumerDefinition<E>,
): ConsumerSpec<MessageOf<E[number]>> {
  const { name, stream, filter, events: eventTypes } = definition;
  if (!durablePattern.test(name)) {
    throw new BusConfigError(
      `invalid consumer name ${JSON.stringify(name)}: use letters, digits, "-" and "_" only`,
    );
  }
  validatePattern(filter, `consumer ${name} filter`);
  if (eventTypes.length === 0) {
    throw new BusConfigError(`consumer ${name} lists no event types`);
  }
  for (const event of eventTypes) {
    if (event.stream !== stream) {
      throw new BusConfigError(
        `consumer ${name} reads ${stream} but event ${event.key} is kept in ${event.stream}`,
      );
    }
    if (!subjectMatches(filter, event.key)) {
      throw new BusConfigError(
        `consumer ${name} filter ${filter} does not match event ${event.key}`,
      );
    }
  }
  const spec = {
    name,
    stream,
    filter,
    events: Object.freeze([...eventTypes]),
    ackWaitMs: positive(definition.ackWaitMs ?? 30_000, `consumer ${name} ackWaitMs`),
    maxDeliver: positive(definition.maxDeliver ?? 5, `consumer ${name} maxDeliver`),
    maxAckPending: positive(definition.maxAckPending ?? 1_000, `consumer ${name} maxAckPending`),
    deliverPolicy: definition.deliverPolicy ?? "all",
    description: definition.description,
    ...(definition.perInstance === true ? { perInstance: true } : {}),
    ...(definition.inactiveThresholdMs === undefined
      ? {}
      : {
          inactiveThresholdMs: positive(
            definition.inactiveThresholdMs,
            `consumer ${name} inactiveThresholdMs`,
          ),
        }),
  };
  // The cast only narrows EventType<Message> to the union the caller listed.
  return Object.freeze(spec) as unknown as ConsumerSpec<MessageOf<E[number]>>;
}

/** The durable consumers of Tailor's services. */
export const consumers = {
  /** History records every build event (including log lines). */
  historyBuildEvents: defineConsumer({
    name: "build-history",
    stream: "EVENTS",
    filter: "build.>",
    events: [
      events.buildQueued,
      events.buildStarted,
      events.buildLog,
      events.buildSucceeded,
      events.buildFailed,
      events.buildCancelled,
    ],
    description: "history: records build lifecycle events and log lines",
    ackWaitMs: 30_000,
    maxDeliver: 5,
    maxAckPending: 1_000,
  }),
  /** The builder's planner decides which custom images to rebuild after catalog changes. */
  builderPlanner: defineConsumer({
    name: "builder-planner",
    stream: "EVENTS",
    filter: "catalog.>",
    events: [events.packagePublished, events.sourceImageUpdated, events.customImageUpdated],
    description: "builder: plans rebuilds when packages, source images or custom images change",
    ackWaitMs: 60_000,
    maxDeliver: 5,
    maxAckPending: 100,
  }),
  /** Builder workers share build jobs; each job goes to exactly one worker. */
  builderWorkers: defineConsumer({
    name: "builder-workers",
    stream: "JOBS",
    filter: "jobs.build",
    events: [events.buildJob],
    description: "builder workers: execute build jobs (call working() while a build runs)",
    // Builds run for minutes; workers heartbeat with working() well within this.
    ackWaitMs: 60_000,
    maxDeliver: 3,
    maxAckPending: 64,
  }),
  /**
   * Every resolver replica keeps its own package universe, so each must see
   * every catalog event: replicas consume per-instance copies of this spec
   * ({@link instanceConsumer}); this template is never created. New
   * events only (a replica loads the universe from the catalog first); an
   * instance's consumer is deleted by the server an hour after it stops.
   */
  resolverUniverse: defineConsumer({
    name: "resolver-universe",
    stream: "EVENTS",
    filter: "catalog.>",
    events: [events.packagePublished, events.sourceImageUpdated, events.customImageUpdated],
    description: "resolver: keeps one replica's in-memory package universe current",
    deliverPolicy: "new",
    ackWaitMs: 30_000,
    maxDeliver: 5,
    maxAckPending: 1_000,
    inactiveThresholdMs: 60 * minute,
    perInstance: true,
  }),
} as const;

/**
 * A copy of `spec` for one process (durable name `<spec.name>-<instance>`),
 * for consumers every replica must read in full rather than share.
 */
export function instanceConsumer<T extends Message>(
  spec: ConsumerSpec<T>,
  instance: string,
): ConsumerSpec<T> {
  const name = `${spec.name}-${instance}`;
  if (!durablePattern.test(name)) {
    throw new BusConfigError(
      `invalid consumer instance ${JSON.stringify(instance)}: use letters, digits, "-" and "_" only`,
    );
  }
  return Object.freeze({ ...spec, name, perInstance: false });
}

/** Finds the event type of a consumer whose subject (relative to the namespace) is `key`. */
export function eventForKey<T extends Message>(
  spec: ConsumerSpec<T>,
  key: string,
): EventType<T> | undefined {
  return spec.events.find((event) => event.key === key);
}

/** True when the NATS subject pattern `pattern` (`*`, `>` wildcards) matches `subject`. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const patternTokens = pattern.split(".");
  const subjectTokens = subject.split(".");
  for (let index = 0; index < patternTokens.length; index++) {
    const token = patternTokens[index];
    if (token === ">") return subjectTokens.length > index;
    const actual = subjectTokens[index];
    if (actual === undefined) return false;
    if (token !== "*" && token !== actual) return false;
  }
  return patternTokens.length === subjectTokens.length;
}

function validatePattern(pattern: string, context: string): void {
  const tokens = pattern.split(".");
  const valid = tokens.every(
    (token, index) =>
      token !== "" &&
      !/\s/.test(token) &&
      (token === ">" ? index === tokens.length - 1 : !token.includes(">")) &&
      (token === "*" || !token.includes("*")),
  );
  if (!valid)
    throw new BusConfigError(`${context} ${JSON.stringify(pattern)} is not a subject pattern`);
}

function positive(value: number, context: string): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new BusConfigError(`${context} must be a positive integer, got ${value}`);
  }
  return value;
}
