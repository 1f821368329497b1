// Reads the events a test's namespace holds, straight from JetStream (an
// ordered consumer), as an outside subscriber would.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import type { EventType } from "@tailor/bus";
import { streamName, subjectFor } from "@tailor/bus";
import type { TestNats } from "@tailor/testing";
import { connect } from "nats";

/** One stored event with its message id. */
export interface StoredEvent<T> {
  readonly msgId: string;
  readonly event: T;
}

/** Every event of `type` stored so far in the test's namespace, oldest first, as a subscriber sees them. */
export async function readEvents<D extends DescMessage>(
  nats: TestNats,
  type: EventType & { schema: D },
): Promise<StoredEvent<MessageShape<D>>[]> {
  const connection = await connect({ servers: nats.url, name: "catalog-image-test-reader" });
  try {
    const stream = streamName(nats.namespace, "EVENTS");
    const subject = subjectFor(nats.namespace, type);
    const manager = await connection.jetstreamManager();
    const info = await manager.streams.info(stream, { subjects_filter: subject });
    const count = info.state.subjects?.[subject] ?? 0;
    if (count === 0) return [];
    const consumer = await connection
      .jetstream()
      .consumers.get(stream, { filterSubjects: subject });
    const messages = await consumer.consume();
    const found: StoredEvent<MessageShape<D>>[] = [];
    for await (const message of messages) {
      found.push({
        msgId: message.headers?.get("Nats-Msg-Id") ?? "",
        event: fromBinary(type.schema, message.data),
      });
      if (found.length >= count) break;
    }
    await messages.close();
    return found;
  } finally {
    await connection.close();
  }
}
