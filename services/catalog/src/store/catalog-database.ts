import type { OutboxTables } from "@tailor/outbox";
import type { ImageTables } from "./image-tables.js";
import type { PackageTables } from "./package-tables.js";

/** Tables of the `catalog` schema; `event_outbox` holds every catalog event until JetStream stored it. */
export interface CatalogDatabase extends PackageTables, ImageTables, OutboxTables {}
