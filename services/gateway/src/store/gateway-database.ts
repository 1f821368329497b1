import type { ApkKeyTables } from "./apk-keys.table.js";

/** Tables of the `gateway` schema. */
export interface GatewayDatabase extends ApkKeyTables {}
