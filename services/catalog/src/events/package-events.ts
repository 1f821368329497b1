import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Bus } from "@tailor/bus";
import { events } from "@tailor/bus";
import type { Kysely } from "@tailor/db";
import type { Logger } from "@tailor/log";
import { eventsV1 } from "@tailor/proto";
import type { CatalogPackage } from "../packages/package.js";
import type { CatalogDatabase } from "../store/catalog-database.js";
import type { OutboxEvent } from "../store/package-store.js";
import { deleteOutboxEvents, pendingOutboxEvents } from "../store/package-store.js";

/**
 * Message id of a package's `package.published` event, derived from the
 * package's identity only: a retried or repeated sync (or publish of the
 * outbox by two replicas) is dropped by JetStream as a duplicate.
 */
export function packagePublishedMsgId(
  pkg: Pick<CatalogPackage, "repository" | "arch" | "name" | "version" | "checksum">,
): string {
  return `pkg.published:${pkg.repository}:${pkg.arch}:${pkg.name}:${pkg.version}:${pkg.checksum}`;
}

/** The outbox entry announcing `pkg` on `tailor.catalog.package.published`. */
export function packagePublishedEvent(pkg: CatalogPackage, occurredAt: Date): OutboxEvent {
  const message = create(eventsV1.PackagePublishedSchema, {
    repository: pkg.repository,
    name: pkg.name,
    version: pkg.version,
    arch: pkg.arch,
    checksum: pkg.checksum,
    provides: [...pkg.provides],
    occurredAt: timestampFromDate(occurredAt),
    origin: pkg.origin,
    via: pkg.via,
  });
  return {
    msgId: packagePublishedMsgId(pkg),
    payload: toBinary(eventsV1.PackagePublishedSchema, message),
  };
}

/** Publishes what the outbox holds. */
export interface PackageEventPublisher {
  /**
   * Publishes every waiting event and removes it from the outbox; stops at
   * the first failure (the rest stay for the next flush). Concurrent calls
   * share one run. Never throws.
   * @returns the number of events published by this run.
   */
  flush(): Promise<number>;
}

/** Events published at once before waiting for their acknowledgements. */
const PUBLISH_WINDOW = 64;
const BATCH = 500;

/**
 * The publisher of `package.published` events: the transaction that adds a
 * package writes its event to the outbox; this sends it after the commit,
 * and again on the next flush if NATS was unreachable.
 */
export function createPackageEventPublisher(
  db: Kysely<CatalogDatabase>,
  bus: Bus,
  logger: Logger,
): PackageEventPublisher {
  let running: Promise<number> | undefined;
  let again = false;

  async function publishAll(): Promise<number> {
    let published = 0;
    for (;;) {
      const pending = await pendingOutboxEvents(db, BATCH);
      if (pending.length === 0) return published;
      for (let start = 0; start < pending.length; start += PUBLISH_WINDOW) {
        const window = pending.slice(start, start + PUBLISH_WINDOW);
        await Promise.all(
          window.map((event) =>
            bus.publish(
              events.packagePublished,
              fromBinary(eventsV1.PackagePublishedSchema, event.payload),
              {
                msgID: event.msgId,
              },
            ),
          ),
        );
        await deleteOutboxEvents(
          db,
          window.map((event) => event.msgId),
        );
        published += window.length;
      }
    }
  }

  async function run(): Promise<number> {
    let total = 0;
    do {
      again = false;
      try {
        total += await publishAll();
      } catch (error) {
        logger.warn(
          { err: error },
          "could not publish package events; they stay in the outbox for the next flush",
        );
        return total;
      }
    } while (again);
    return total;
  }

  return {
    flush() {
      if (running !== undefined) {
        again = true;
        return running;
      }
      running = run().finally(() => {
        running = undefined;
      });
      return running;
    },
  };
}
