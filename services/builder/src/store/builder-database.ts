import type { OutboxTables } from "@tailor/outbox";
import type { BuildTables } from "./builds.table.js";
import type { RegistryTables } from "./registry.table.js";

/** Tables of the `builder` schema; `event_outbox` holds build events and jobs until JetStream stored them. */
export interface BuilderDatabase extends BuildTables, RegistryTables, OutboxTables {}
