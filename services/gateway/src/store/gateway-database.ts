import type { Kysely, Transaction } from "@tailor/db";
import type { ApkKeyTables } from "./apk-keys.table.js";

/** Tables of the `gateway` schema. */
export interface GatewayDatabase extends ApkKeyTables {}

/** What repository functions take first: the database or a transaction on it. */
export type GatewayDb = Kysely<GatewayDatabase> | Transaction<GatewayDatabase>;
