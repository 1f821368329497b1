// Reads the `package.published` events a test's namespace holds, straight
// from JetStream (an ordered consumer), as an outside subscriber would.
import { fromBinary } from "@bufbuild/protobuf";
import { events, streamName, subjectFor } from "@tailor/bus";
import { eventsV1 } from "@tailor/proto";
import type { TestNats } from "@tailor/testing";
import { connect } from "nats";

/** One stored event with its message id. */
export interface StoredPackageEvent {
  readonly msgId: string;
  readonly event: eventsV1.PackagePublished;
}

/** Every `tailor.catalog.package.published` event stored so far in the test's namespace, oldest first. */
export async function readPackageEvents(nats: TestNats): Promise<StoredPackageEvent[]> {
  const connection = await connect({ servers: nats.url, name: "catalog-test-reader" });
  try {
    const stream = streamName(nats.namespace, "EVENTS");
    const subject = subjectFor(nats.namespace, events.packagePublished);
    const manager = await connection.jetstreamManager();
    const info = await manager.streams.info(stream, { subjects_filter: subject });
    const count = info.state.subjects?.[subject] ?? 0;
    if (count === 0) return [];
    const consumer = await connection
      .jetstream()
      .consumers.get(stream, { filterSubjects: subject });
    const messages = await consumer.consume();
    const found: StoredPackageEvent[] = [];
    for await (const message of messages) {
      found.push({
        msgId: message.headers?.get("Nats-Msg-Id") ?? "",
        event: fromBinary(eventsV1.PackagePublishedSchema, message.data),
      });
      if (found.length >= count) break;
    }
    await messages.close();
    return found;
  } finally {
    await connection.close();
  }
}
