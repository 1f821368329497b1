import type { ImageTables } from "./image-tables.js";
import type { PackageTables } from "./package-tables.js";

/** Tables of the `catalog` schema. */
export interface CatalogDatabase extends PackageTables, ImageTables {}
