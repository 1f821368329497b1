/**
 * @tailor/bus — NATS JetStream for Tailor's services: the catalogue of
 * subjects, streams and consumers, typed publish with stable message ids,
 * consumption as async iterables of deliveries, and dead letters.
 */

export type {
  Bus,
  CloseOptions,
  ConnectBusOptions,
  PublishAck,
  PublishOptions,
  ReadDeadLettersOptions,
} from "./bus.js";
export { connectBus } from "./bus.js";
export type {
  ConsumerDefinition,
  ConsumerMessage,
  ConsumerSpec,
  EventMessage,
  EventType,
  MessageOf,
  StreamKind,
  StreamRetention,
  StreamSpec,
} from "./catalogue.js";
export {
  consumers,
  deadLetterSubject,
  defaultNamespace,
  defineConsumer,
  events,
  instanceConsumer,
  streamName,
  streams,
  subjectFor,
  subjectMatches,
} from "./catalogue.js";
export type { ConsumeOptions } from "./consume.js";
export type { DeadLetter, DeadLetterListener, DeadLetterObserver } from "./dead-letters.js";
export { busHeaders, deadLetterHeaders } from "./dead-letters.js";
export type { Delivery } from "./delivery.js";
export {
  AckError,
  BusClosedError,
  BusConfigError,
  BusConnectionError,
  BusError,
  DecodeError,
  NatsServerError,
  ProvisionError,
  PublishError,
} from "./errors.js";
export type { NatsServerProcess, SpawnNatsServerOptions } from "./nats-server.js";
export { findNatsServerBinary, spawnNatsServer } from "./nats-server.js";
export type { ProvisionOptions } from "./provision.js";
export { sleepUnlessAborted } from "./sleep.js";
