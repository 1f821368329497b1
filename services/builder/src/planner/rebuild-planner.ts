import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Delivery } from "@tailor/bus";
import { consumers, events, sleepUnlessAborted } from "@tailor/bus";
import { Code, TailorError } from "@tailor/grpc";
import type { eventsV1 } from "@tailor/proto";
import type { BuilderDependencies } from "../builder-dependencies.js";
import { requestBuild } from "../builds/request-build.js";
import {
  hasBuildSince,
  listCustomImagesOf,
  listLastLockedClosures,
  planRebuild,
  takeDueRebuilds,
  upsertCustomImage,
} from "../store/build-store.js";

/** Options of {@link startRebuildPlanner}. */
export interface RebuildPlannerOptions {
  /** Events for the same image within this window become one build. */
  readonly debounceMs: number;
}

/** How long a plan whose build request failed waits before the next try. */
const RETRY_PLAN_MS = 5_000;

type PlannerMessage =
  | eventsV1.PackagePublished
  | eventsV1.SourceImageUpdated
  | eventsV1.CustomImageUpdated;

/** `so:libfoo.so.1=1.2` → `so:libfoo.so.1`. */
function providedName(provided: string): string {
  return provided.split(/[=<>~]/, 1)[0] ?? provided;
}

/**
 * The rebuild planner: reads catalog events from the shared
 * `builder-planner` consumer and plans one rebuild per affected custom image
 * (kept in `planned_rebuilds`, so a burst of events coalesces and a restart
 * loses nothing); a loop requests the builds once due. A planned rebuild is
 * dropped when a build of the image was requested after the event anyway.
 * Whether a rebuild is needed at all is decided by the worker: an identical
 * closure ends as "up to date" without assembling.
 */
export function startRebuildPlanner(
  deps: BuilderDependencies,
  options: RebuildPlannerOptions,
): { stop(): Promise<void> } {
  const stopping = new AbortController();
  const logger = deps.logger.child({ component: "rebuild-planner" });

  async function plan(delivery: Delivery<PlannerMessage>): Promise<void> {
    const now = deps.now();
    const dueAt = new Date(now.getTime() + options.debounceMs);
    if (delivery.is(events.packagePublished)) {
      const published = delivery.message;
      const names = new Set([published.name, ...published.provides.map(providedName)]);
      const plannedAt = occurred(published.occurredAt, now);
      let planned = 0;
      for (const closure of await listLastLockedClosures(deps.db)) {
        const arches =
          published.arch === "noarch" ? Object.keys(closure.closureNames) : [published.arch];
        const affected = arches.some((arch) =>
          (closure.closureNames[arch] ?? []).some((name) => names.has(name)),
        );
        if (!affected) continue;
        await planRebuild(
          deps.db,
          {
            orgId: closure.orgId,
            customImage: closure.customImage,
            revision: 0,
            // Name and version, so the history says which update caused the build.
            trigger: `package:${published.name}=${published.version}`,
            plannedAt,
          },
          dueAt,
        );
        planned++;
      }
      if (planned > 0) {
        logger.info(
          { package: `${published.name}-${published.version}`, arch: published.arch, planned },
          "rebuilds planned after a package was published",
        );
      }
    } else if (delivery.is(events.sourceImageUpdated)) {
      const updated = delivery.message;
      const images = await listCustomImagesOf(deps.db, updated.sourceImage);
      for (const image of images) {
        await planRebuild(
          deps.db,
          {
            orgId: image.orgId,
            customImage: image.name,
            revision: 0,
            trigger: "source-image",
            plannedAt: occurred(updated.occurredAt, now),
          },
          dueAt,
        );
      }
      if (images.length > 0) {
        logger.info(
          { sourceImage: updated.sourceImage, planned: images.length },
          "rebuilds planned after a source image changed",
        );
      }
    } else if (delivery.is(events.customImageUpdated)) {
      const updated = delivery.message;
      await upsertCustomImage(
        deps.db,
        updated.orgId,
        updated.customImage,
        updated.sourceImage,
        now,
      );
      await planRebuild(
        deps.db,
        {
          orgId: updated.orgId,
          customImage: updated.customImage,
          revision: updated.revision,
          trigger: "custom-image",
          plannedAt: occurred(updated.occurredAt, now),
        },
        dueAt,
      );
    }
    await delivery.ack();
  }

  /**
   * Requests the builds that are due, one at a time. A plan is taken
   * (deleted) in its own transaction, never held open across the catalog
   * call (the embedded database has one connection); a transient failure
   * puts it back.
   */
  async function requestDue(): Promise<void> {
    for (;;) {
      if (stopping.signal.aborted) return;
      const due = await deps.db.transaction().execute(async (trx) => {
        const [taken] = await takeDueRebuilds(trx, deps.now(), 1);
        if (taken === undefined) return undefined;
        const covered = await hasBuildSince(trx, taken.orgId, taken.customImage, taken.plannedAt);
        return { plan: taken, covered };
      });
      if (due === undefined) return;
      const { plan: rebuild, covered } = due;
      if (covered) {
        logger.debug(
          { org: rebuild.orgId, customImage: rebuild.customImage },
          "rebuild already covered by a later build",
        );
        continue;
      }
      try {
        const build = await requestBuild(
          deps,
          {
            orgId: rebuild.orgId,
            customImage: rebuild.customImage,
            revision: rebuild.revision,
            trigger: rebuild.trigger,
          },
          await deps.serviceMetadata(),
        );
        logger.info(
          {
            buildId: build.id,
            org: rebuild.orgId,
            customImage: rebuild.customImage,
            trigger: rebuild.trigger,
          },
          "rebuild requested",
        );
      } catch (error) {
        if (TailorError.from(error).code === Code.NOT_FOUND) {
          logger.info(
            { org: rebuild.orgId, customImage: rebuild.customImage },
            "planned rebuild dropped: the custom image no longer exists",
          );
          continue;
        }
        await planRebuild(deps.db, rebuild, new Date(deps.now().getTime() + RETRY_PLAN_MS));
        throw error;
      }
    }
  }

  const consuming = (async () => {
    for await (const delivery of deps.bus.consume(consumers.builderPlanner, {
      concurrency: 4,
      signal: stopping.signal,
    })) {
      await plan(delivery).catch((error: unknown) => {
        logger.warn({ err: error, subject: delivery.subject }, "cannot plan rebuilds; retrying");
        delivery.nak(1_000, error instanceof Error ? error.message : String(error));
      });
    }
  })().catch((error: unknown) => {
    if (!stopping.signal.aborted) logger.error({ err: error }, "rebuild planner stopped");
  });

  const tickMs = Math.max(100, Math.min(1_000, Math.floor(options.debounceMs / 4) || 100));
  let failures = 0;
  const requesting = (async () => {
    while (!stopping.signal.aborted) {
      await sleepUnlessAborted(tickMs, stopping.signal);
      try {
        await requestDue();
        failures = 0;
      } catch (error) {
        failures++;
        if (failures === 1 || failures % 30 === 0) {
          logger.warn({ err: error, failures }, "cannot request planned rebuilds; retrying");
        }
      }
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await Promise.all([consuming, requesting]);
    },
  };
}

function occurred(
  timestamp: Parameters<typeof timestampDate>[0] | undefined,
  fallback: Date,
): Date {
  return timestamp === undefined ? fallback : timestampDate(timestamp);
}
