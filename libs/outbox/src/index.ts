/**
 * @tailor/outbox — the transactional outbox of Tailor's services: events are
 * written in the same database transaction as the change they announce, and
 * a relay publishes them to NATS JetStream with their stable msgIDs, deleting
 * each once stored. A change never exists without its event, nor an event
 * without its change; a repeated publish is dropped by JetStream.
 */

export type { EnqueueOptions, OutboxEntry } from "./enqueue-event.js";
export { enqueueEvent, enqueueEvents } from "./enqueue-event.js";
export { UnknownOutboxEventError } from "./errors.js";
export type { OutboxRelay, OutboxRelayOptions } from "./outbox-relay.js";
export { createOutboxRelay } from "./outbox-relay.js";
export type { OutboxTable, OutboxTables } from "./outbox-table.js";
export { createOutboxTable, DEFAULT_OUTBOX_TABLE, dropOutboxTable } from "./outbox-table.js";
