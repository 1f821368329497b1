import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { events } from "@tailor/bus";
import type { Transaction } from "@tailor/db";
import { enqueueEvents } from "@tailor/outbox";
import type { CatalogPackage } from "../packages/package.js";
import type { CatalogDatabase } from "../store/catalog-database.js";

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

/**
 * Queues `tailor.catalog.package.published` for each package, inside the
 * transaction that adds them; the outbox relay publishes them after the commit.
 */
export async function enqueuePackagesPublished(
  trx: Transaction<CatalogDatabase>,
  packages: readonly CatalogPackage[],
  occurredAt: Date,
): Promise<void> {
  await enqueueEvents(
    trx,
    events.packagePublished,
    packages.map((pkg) => ({
      msgID: packagePublishedMsgId(pkg),
      message: {
        repository: pkg.repository,
        name: pkg.name,
        version: pkg.version,
        arch: pkg.arch,
        checksum: pkg.checksum,
        provides: [...pkg.provides],
        occurredAt: timestampFromDate(occurredAt),
        origin: pkg.origin,
        via: pkg.via,
      },
    })),
  );
}
