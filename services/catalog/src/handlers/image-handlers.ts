import type { ServiceImpl } from "@tailor/grpc";
import type { catalogV1 } from "@tailor/proto";
import type { CatalogDependencies } from "../catalog-dependencies.js";

type CatalogImpl = ServiceImpl<typeof catalogV1.CatalogService>;

/** Handlers for source images and custom images. */
export type ImageHandlers = Pick<
  CatalogImpl,
  | "putSourceImage"
  | "getSourceImage"
  | "listSourceImages"
  | "createCustomImage"
  | "updateCustomImage"
  | "getCustomImage"
  | "listCustomImages"
  | "listCustomImageRevisions"
>;

/** gRPC handlers of the image half of tailor.catalog.v1.CatalogService. */
export function createImageHandlers(_deps: CatalogDependencies): ImageHandlers {
  throw new Error("not built yet");
}
