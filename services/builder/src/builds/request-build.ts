import type { BuilderDependencies } from "../builder-dependencies.js";
import { enqueueBuildQueued } from "../events/build-events.js";
import { insertBuild, upsertCustomImage } from "../store/build-store.js";
import type { Build } from "./build.js";
import { newBuildId } from "./build-id.js";

/** What to build. */
export interface BuildRequest {
  orgId: string;
  customImage: string;
  /** 0: the latest revision. */
  revision: number;
  trigger: string;
}

/**
 * Queues a build: reads the custom image from the catalog (with `metadata`,
 * the caller's or the builder's credentials, so the catalog's NOT_FOUND
 * reaches a caller of another organization), stores the build, and writes
 * tailor.build.queued and the job in the same transaction.
 */
export async function requestBuild(
  deps: Pick<BuilderDependencies, "db" | "catalog" | "events" | "now">,
  request: BuildRequest,
  metadata: Record<string, string>,
): Promise<Build> {
  const { customImage } = await deps.catalog.getCustomImage(
    { orgId: request.orgId, name: request.customImage, revision: request.revision },
    { metadata },
  );
  if (customImage === undefined) {
    throw new Error(`the catalog returned no custom image for ${request.customImage}`);
  }
  const now = deps.now();
  const build = await deps.db.transaction().execute(async (trx) => {
    const stored = await insertBuild(trx, {
      id: newBuildId(now),
      orgId: request.orgId,
      customImage: request.customImage,
      revision: customImage.revision,
      sourceImage: customImage.sourceImage,
      trigger: request.trigger,
      createdAt: now,
    });
    await upsertCustomImage(trx, request.orgId, request.customImage, customImage.sourceImage, now);
    await enqueueBuildQueued(trx, stored);
    return stored;
  });
  await deps.events.flushAfterCommit();
  return build;
}
