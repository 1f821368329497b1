import { Code, TailorError } from "@tailor/grpc";
import type { catalogV1 } from "@tailor/proto";
import type { ServiceClient } from "@tailor/service";
import type { SourceImageDefinition } from "../resolution/closure-planner.js";

/** The catalog has no source image by that name. */
export class SourceImageNotFoundError extends Error {
  override readonly name = "SourceImageNotFoundError";
  constructor(
    readonly sourceImage: string,
    readonly field: string,
  ) {
    super(`source image "${sourceImage}" not found`);
  }
}

/** Source image definitions read from the catalog, kept until a `source-image.updated` event. */
export interface SourceImageCache {
  /** The definition of `name`; SourceImageNotFoundError (about `field`) when the catalog has none. */
  get(name: string, field: string): Promise<SourceImageDefinition>;
  /** Forgets `name` (its definition changed). */
  invalidate(name: string): void;
  /** Forgets everything (after a full reload). */
  clear(): void;
}

/** Creates the cache over the catalog client, read with the resolver's own credential. */
export function createSourceImageCache(deps: {
  readonly catalog: ServiceClient<typeof catalogV1.CatalogService>;
  serviceMetadata(): Promise<Record<string, string>>;
}): SourceImageCache {
  const cache = new Map<string, Promise<SourceImageDefinition>>();
  return {
    get(name, field) {
      let found = cache.get(name);
      if (found === undefined) {
        found = (async () => {
          try {
            const { sourceImage } = await deps.catalog.getSourceImage(
              { name },
              { metadata: await deps.serviceMetadata() },
            );
            if (sourceImage === undefined) throw new SourceImageNotFoundError(name, field);
            return {
              name: sourceImage.name,
              mainPackage: sourceImage.mainPackage,
              packages: sourceImage.packages,
              devPackages: sourceImage.devPackages,
              generation: sourceImage.generation,
            };
          } catch (error) {
            cache.delete(name);
            if (error instanceof TailorError && error.code === Code.NOT_FOUND) {
              throw new SourceImageNotFoundError(name, field);
            }
            throw error;
          }
        })();
        cache.set(name, found);
      }
      return found.catch((error: unknown) => {
        // Not-found is not cached either: the image may be created any moment.
        if (error instanceof SourceImageNotFoundError && error.field !== field) {
          throw new SourceImageNotFoundError(name, field);
        }
        throw error;
      });
    },
    invalidate(name) {
      cache.delete(name);
    },
    clear() {
      cache.clear();
    },
  };
}
