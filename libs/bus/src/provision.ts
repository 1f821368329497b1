/**
 * Creates or updates streams and durable consumers from the catalogue.
 * Every step is "create, or update if it exists", so two processes provisioning
 * at once both succeed and converge on the same configuration.
 */
import type { Message } from "@bufbuild/protobuf";
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  NatsError,
  nanos,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "nats";
import {
  type ConsumerSpec,
  type StreamKind,
  type StreamSpec,
  streamName,
  streams,
} from "./catalogue.js";
import { ProvisionError } from "./errors.js";

/** Options of `Bus.provision`. */
export interface ProvisionOptions {
  /**
   * How long the EVENTS stream keeps events, in milliseconds.
   * @default 604_800_000 (7 days)
   */
  readonly eventsMaxAgeMs?: number;
}

/** JetStream API error codes the provisioning tolerates, by condition. */
export const jetStreamErrorCodes = {
  streamNotFound: 10059,
  streamNameInUse: 10058,
  consumerNotFound: 10014,
  consumerNameExists: 10013,
  consumerAlreadyExists: 10148,
} as const;

/** The JetStream configuration of one stream of a namespace. */
export function streamConfig(
  namespace: string,
  spec: StreamSpec,
  maxAgeMs = spec.maxAgeMs,
): Partial<StreamConfig> {
  return {
    name: streamName(namespace, spec.kind),
    description: spec.description,
    subjects: spec.subjects.map((subject) => `${namespace}.${subject}`),
    retention: spec.retention === "workqueue" ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(maxAgeMs),
    duplicate_window: nanos(Math.min(spec.duplicateWindowMs, maxAgeMs)),
    num_replicas: 1,
  };
}

/** Creates every stream of the namespace, or updates the ones that exist. */
export async function provisionStreams(
  jsm: JetStreamManager,
  namespace: string,
  options: ProvisionOptions = {},
): Promise<void> {
  const kinds: StreamKind[] = ["EVENTS", "JOBS", "DLQ"];
  for (const kind of kinds) {
    const spec = streams[kind];
    const maxAgeMs = kind === "EVENTS" ? (options.eventsMaxAgeMs ?? spec.maxAgeMs) : spec.maxAgeMs;
    await ensureStream(jsm, streamConfig(namespace, spec, maxAgeMs));
  }
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig>): Promise<void> {
  const name = config.name ?? "";
  try {
    if (await streamExists(jsm, name)) {
      await jsm.streams.update(name, config);
      return;
    }
    try {
      await jsm.streams.add(config);
    } catch (error) {
      // Another process created it between our check and our add: update instead.
      if (apiErrorCode(error) !== jetStreamErrorCodes.streamNameInUse) throw error;
      await jsm.streams.update(name, config);
    }
  } catch (error) {
    throw new ProvisionError(`stream ${name}`, { cause: error });
  }
}

async function streamExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return true;
  } catch (error) {
    if (apiErrorCode(error) === jetStreamErrorCodes.streamNotFound) return false;
    throw error;
  }
}

/** The JetStream configuration of a durable pull consumer. */
export function consumerConfig<T extends Message>(
  namespace: string,
  spec: ConsumerSpec<T>,
): Partial<ConsumerConfig> {
  return {
    durable_name: spec.name,
    description: spec.description,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: spec.deliverPolicy === "new" ? DeliverPolicy.New : DeliverPolicy.All,
    filter_subject: `${namespace}.${spec.filter}`,
    ack_wait: nanos(spec.ackWaitMs),
    // One delivery beyond the handler's budget: the bus itself receives it and
    // dead-letters it, which also covers a worker that crashed on its last try.
    max_deliver: spec.maxDeliver + 1,
    max_ack_pending: spec.maxAckPending,
    ...(spec.inactiveThresholdMs === undefined
      ? {}
      : { inactive_threshold: nanos(spec.inactiveThresholdMs) }),
  };
}

/** Creates a durable consumer, or updates it to match the spec when it exists. */
export async function ensureConsumer<T extends Message>(
  jsm: JetStreamManager,
  namespace: string,
  spec: ConsumerSpec<T>,
): Promise<void> {
  const stream = streamName(namespace, spec.stream);
  const config = consumerConfig(namespace, spec);
  try {
    const existing = await consumerInfo(jsm, stream, spec.name);
    if (existing !== undefined) {
      assertSameIdentity(`${stream}/${spec.name}`, existing.config, config);
      await updateConsumer(jsm, stream, spec.name, config);
      return;
    }
    try {
      await jsm.consumers.add(stream, config);
    } catch (error) {
      const code = apiErrorCode(error);
      // Lost a creation race with another process: converge by updating.
      if (
        code !== jetStreamErrorCodes.consumerNameExists &&
        code !== jetStreamErrorCodes.consumerAlreadyExists
      ) {
        throw error;
      }
      await updateConsumer(jsm, stream, spec.name, config);
    }
  } catch (error) {
    if (error instanceof ProvisionError) throw error;
    throw new ProvisionError(`consumer ${stream}/${spec.name}`, { cause: error });
  }
}

async function updateConsumer(
  jsm: JetStreamManager,
  stream: string,
  name: string,
  config: Partial<ConsumerConfig>,
): Promise<void> {
  // Only these fields may change on an existing consumer; the filter and
  // deliver policy are fixed at creation (delete the consumer to change them).
  await jsm.consumers.update(stream, name, {
    ...(config.description === undefined ? {} : { description: config.description }),
    ...(config.ack_wait === undefined ? {} : { ack_wait: config.ack_wait }),
    ...(config.max_deliver === undefined ? {} : { max_deliver: config.max_deliver }),
    ...(config.max_ack_pending === undefined ? {} : { max_ack_pending: config.max_ack_pending }),
  });
}

async function consumerInfo(
  jsm: JetStreamManager,
  stream: string,
  name: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (error) {
    if (apiErrorCode(error) === jetStreamErrorCodes.consumerNotFound) return undefined;
    throw error;
  }
}

/**
 * The filter and deliver policy cannot change on an existing consumer; an
 * update would silently keep the old ones, so say so instead.
 */
function assertSameIdentity(
  resource: string,
  existing: ConsumerConfig,
  wanted: Partial<ConsumerConfig>,
): void {
  const filter = existing.filter_subject ?? "";
  if (filter !== wanted.filter_subject || existing.deliver_policy !== wanted.deliver_policy) {
    throw new ProvisionError(`consumer ${resource}`, {
      cause: new Error(
        `it exists with filter ${filter} and deliver policy ${existing.deliver_policy}, ` +
          `the spec wants ${wanted.filter_subject} and ${wanted.deliver_policy}; ` +
          "delete the consumer to change them",
      ),
    });
  }
}

/** The JetStream API `err_code` of an error, if it is one. */
export function apiErrorCode(error: unknown): number | undefined {
  if (error instanceof NatsError) return error.api_error?.err_code;
  return undefined;
}
