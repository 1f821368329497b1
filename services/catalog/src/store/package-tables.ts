import type { ColumnType, Generated, Selectable } from "@tailor/db";

/**
 * A `jsonb` column: read as the parsed value, written as JSON text (pg would
 * turn a JavaScript array into a Postgres array literal, so callers pass
 * `JSON.stringify(value)`; PGlite reads it back the same way).
 */
type Json<T> = ColumnType<T, string, string>;

/** A `bigint` column: pg and PGlite both return int8 as a string; numbers go in. */
type Int8 = ColumnType<string, number, number>;

/** A nullable `bigint` column. */
type NullableInt8 = ColumnType<string | null, number | null, number | null>;

/** A `timestamptz` column with a default. */
type CreatedAt = ColumnType<Date, Date | undefined, never>;

/** A nullable `timestamptz` column. */
type NullableTimestamp = ColumnType<Date | null, Date | null | undefined, Date | null>;

/** A trusted key as stored in `repositories.trusted_keys`. */
export interface StoredTrustedKey {
  name: string;
  pem: string;
}

/** Row shape of `catalog.repositories`: one APK repository, upstream or hosted. */
export interface RepositoriesTable {
  name: string;
  kind: "upstream" | "hosted";
  /** Normalised URL (no trailing slash); "" for hosted repositories. */
  url: string;
  arches: Json<string[]>;
  trusted_keys: Json<StoredTrustedKey[]>;
  mirror: boolean;
  /** apk tag including "@", or "". */
  tag: string;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  last_synced_at: NullableTimestamp;
  /** When the last sync (successful or not) started: the scheduler's "due" clock. */
  last_sync_attempt_at: NullableTimestamp;
  /** Process holding the sync lease, so two replicas never sync one repository at once. */
  sync_lease_owner: ColumnType<string | null, string | null | undefined, string | null>;
  sync_lease_expires_at: NullableTimestamp;
}

/** Row shape of `catalog.repository_indexes`: the last APKINDEX applied per arch. */
export interface RepositoryIndexesTable {
  repository: string;
  arch: string;
  /** "sha256:…" of the APKINDEX.tar.gz bytes. */
  index_digest: string;
  /** Key that verified it. */
  signed_by: string;
  /** The index's DESCRIPTION, e.g. "v3.19.7-221-g6d95969d7b7". */
  description: string;
  applied_at: ColumnType<Date, Date, Date>;
}

/** Row shape of `catalog.packages`: one package version of one arch in one repository. */
export interface PackagesTable {
  id: Generated<string>;
  repository: string;
  arch: string;
  name: string;
  version: string;
  checksum: string;
  size: Int8;
  installed_size: Int8;
  description: string;
  url: string;
  license: string;
  origin: string;
  maintainer: string;
  /** Seconds since the epoch. */
  build_time: NullableInt8;
  commit: string;
  provider_priority: ColumnType<number | null, number | null, number | null>;
  depends: Json<string[]>;
  provides: Json<string[]>;
  install_if: Json<string[]>;
  /** Names of `provides` without versions ("so:libssl.so.3"), GIN-indexed for FindProviders. */
  provided_names: Json<string[]>;
  /** "sha256:…" of the .apk in the blob store, once fetched or uploaded. */
  blob_digest: ColumnType<string | null, string | null | undefined, string | null>;
  /** "sync" or "upload". */
  via: "sync" | "upload";
  added_at: ColumnType<Date, Date, never>;
}

/** Row shape of `catalog.repository_syncs`: one recorded sync. */
export interface RepositorySyncsTable {
  id: string;
  repository: string;
  trigger: "manual" | "schedule";
  status: "succeeded" | "failed";
  error: string;
  arches: Json<StoredArchSync[]>;
  started_at: ColumnType<Date, Date, never>;
  finished_at: ColumnType<Date, Date, never>;
}

/** What one arch's sync did, as stored in `repository_syncs.arches`. */
export interface StoredArchSync {
  arch: string;
  indexDigest: string;
  signedBy: string;
  added: number;
  removed: number;
  unchanged: number;
  indexUnchanged: boolean;
}

/** Row shape of `catalog.end_of_life_rules`: one rule per package stream. */
export interface EndOfLifeRulesTable {
  package_name: string;
  /** "" means every version. */
  before_version: string;
  reason: string;
  source: "admin" | "policy";
  updated_at: ColumnType<Date, Date, Date>;
}

/** A stored repository row. */
export type RepositoryRow = Selectable<RepositoriesTable>;
/** A stored package row. */
export type PackageRow = Selectable<PackagesTable>;
/** A stored sync row. */
export type RepositorySyncRow = Selectable<RepositorySyncsTable>;
/** A stored end-of-life rule row. */
export type EndOfLifeRuleRow = Selectable<EndOfLifeRulesTable>;

/** Tables of repositories, packages, syncs and end-of-life rules. */
export interface PackageTables {
  repositories: RepositoriesTable;
  repository_indexes: RepositoryIndexesTable;
  packages: PackagesTable;
  repository_syncs: RepositorySyncsTable;
  end_of_life_rules: EndOfLifeRulesTable;
}
