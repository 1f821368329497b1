import type { Bus, ConsumerSpec } from "@tailor/bus";
import { events } from "@tailor/bus";
import type { Logger } from "@tailor/log";
import type { eventsV1 } from "@tailor/proto";
import type { ResolverMetrics } from "../resolver-metrics.js";
import type { SourceImageCache } from "../source-images/source-image-cache.js";
import type { PackageUniverse } from "../universe/package-universe.js";
import type { UniverseLoader } from "../universe/universe-loader.js";

/** Catalog events a resolver replica reads. */
export type CatalogEvent =
  | eventsV1.PackagePublished
  | eventsV1.SourceImageUpdated
  | eventsV1.CustomImageUpdated;

/** What the consumer updates. */
export interface CatalogEventConsumerDependencies {
  readonly bus: Bus;
  /** This replica's own consumer (every replica sees every event). */
  readonly consumer: ConsumerSpec<CatalogEvent>;
  readonly loader: UniverseLoader;
  readonly universe: PackageUniverse;
  readonly sourceImages: SourceImageCache;
  readonly metrics: ResolverMetrics;
  readonly logger: Logger;
}

/** Events handled at once: fetching packages is I/O bound and order does not matter (upserts by key). */
const CONCURRENCY = 8;
/**
 * Redelivery delay when the catalog cannot answer: 1 s, doubling with every
 * delivery (1+2+4+8+16 s over the consumer's 5 deliveries), so a catalog
 * restart does not exhaust an event's deliveries in a few seconds.
 */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * Keeps the universe current: a published package is fetched from the catalog
 * and added (its arch recompiled within the rebuild interval); a changed
 * source image is forgotten so the next call reads it again. Runs until
 * `signal` aborts.
 */
export async function consumeCatalogEvents(
  deps: CatalogEventConsumerDependencies,
  signal: AbortSignal,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for await (const delivery of deps.bus.consume(deps.consumer, {
    concurrency: CONCURRENCY,
    signal,
  })) {
    const work = (async () => {
      try {
        if (delivery.is(events.packagePublished)) {
          const event = delivery.message;
          const added = await deps.loader.applyPublished(event, signal);
          if (added) {
            const publishedAt = delivery.publishedAt.getTime();
            void deps.universe.settled().then(() => {
              const seconds = (Date.now() - publishedAt) / 1000;
              deps.metrics.eventVisibleSeconds.observe(seconds);
              deps.logger.debug(
                {
                  package: `${event.name}-${event.version}`,
                  arch: event.arch,
                  visibleAfterMs: Math.round(seconds * 1000),
                },
                "published package is resolvable",
              );
            });
          }
        } else if (delivery.is(events.sourceImageUpdated)) {
          deps.sourceImages.invalidate(delivery.message.sourceImage);
        }
        await delivery.ack();
      } catch (error) {
        deps.logger.warn(
          { err: error, subject: delivery.subject },
          "cannot apply a catalog event yet; retrying",
        );
        const delay = Math.min(RETRY_FIRST_MS * 2 ** (delivery.deliveryCount - 1), RETRY_MAX_MS);
        delivery.nak(delay, error instanceof Error ? error.message : String(error));
      }
    })();
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }
  await Promise.allSettled([...inFlight]);
}
