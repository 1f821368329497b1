/**
 * Image events, written into the catalog's outbox in the transaction of the
 * change they announce (see @tailor/outbox): a revision never exists without
 * its event, nor an event without its revision.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { events } from "@tailor/bus";
import type { Transaction } from "@tailor/db";
import { enqueueEvent } from "@tailor/outbox";
import type { CustomImage } from "../custom-images/custom-image.js";
import type { SourceImage } from "../source-images/source-image.js";
import type { CatalogDatabase } from "../store/catalog-database.js";

/** Stable id of a source image's generation: `source-image.updated:<name>:<generation>`. */
export function sourceImageUpdatedMsgId(name: string, generation: number): string {
  return `source-image.updated:${name}:${generation}`;
}

/** Stable id of a custom image revision: `custom-image.updated:<org>:<name>:<revision>`. */
export function customImageUpdatedMsgId(orgId: string, name: string, revision: number): string {
  return `custom-image.updated:${orgId}:${name}:${revision}`;
}

/** Queues `tailor.catalog.source-image.updated` for a new generation, inside its transaction. */
export async function enqueueSourceImageUpdated(
  trx: Transaction<CatalogDatabase>,
  image: SourceImage,
  version: string,
): Promise<void> {
  await enqueueEvent(
    trx,
    events.sourceImageUpdated,
    {
      sourceImage: image.name,
      version,
      generation: image.generation,
      occurredAt: timestampFromDate(image.updatedAt),
    },
    sourceImageUpdatedMsgId(image.name, image.generation),
  );
}

/** Queues `tailor.catalog.custom-image.updated` for a new revision, inside its transaction. */
export async function enqueueCustomImageUpdated(
  trx: Transaction<CatalogDatabase>,
  image: CustomImage,
): Promise<void> {
  await enqueueEvent(
    trx,
    events.customImageUpdated,
    {
      orgId: image.orgId,
      customImage: image.name,
      revision: image.revision,
      sourceImage: image.sourceImage,
      author: image.author.name,
      authorSubject: image.author.subject,
      occurredAt: timestampFromDate(image.createdAt),
    },
    customImageUpdatedMsgId(image.orgId, image.name, image.revision),
  );
}
