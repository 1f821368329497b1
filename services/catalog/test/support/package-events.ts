import { events } from "@tailor/bus";
import type { eventsV1 } from "@tailor/proto";
import type { TestNats } from "@tailor/testing";
import type { StoredEvent } from "./stored-events.js";
import { readEvents } from "./stored-events.js";

/** One stored `package.published` event with its message id. */
export type StoredPackageEvent = StoredEvent<eventsV1.PackagePublished>;

/** Every `tailor.catalog.package.published` event stored so far in the test's namespace, oldest first. */
export function readPackageEvents(nats: TestNats): Promise<StoredPackageEvent[]> {
  return readEvents(nats, events.packagePublished);
}
