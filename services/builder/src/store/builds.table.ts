import type { ColumnType, Selectable } from "@tailor/db";

/** JSON stored as jsonb: read back parsed, written as JSON text. */
export type JsonColumn = ColumnType<unknown, string, string>;

/** Row shape of `builder.builds`. */
export interface BuildsTable {
  id: string;
  org_id: string;
  custom_image: string;
  revision: number;
  source_image: string;
  trigger: string;
  status: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  attempts: ColumnType<number, number | undefined, number>;
  worker: ColumnType<string, string | undefined, string>;
  /** `Record<string, string>` as JSON. */
  digests: ColumnType<unknown, string | undefined, string>;
  /** `string[]` as JSON. */
  tags: ColumnType<unknown, string | undefined, string>;
  failure_reason: ColumnType<string, string | undefined, string>;
  failure_message: ColumnType<string, string | undefined, string>;
  /** {@link LockedConfig} as JSON. */
  locked_config: ColumnType<unknown, string | null | undefined, string | null>;
  /** `{ [arch]: string[] }` as JSON: names and provided names of the locked closure. */
  closure_names: ColumnType<unknown, string | null | undefined, string | null>;
  closure_hash: ColumnType<string | null, string | null | undefined, string | null>;
  /** bigint: pg returns it as a string. */
  log_seq: ColumnType<string | number, number | undefined, number>;
}

/** Row shape of `builder.custom_images`: the custom images the planner knows. */
export interface CustomImagesTable {
  org_id: string;
  name: string;
  source_image: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** Row shape of `builder.planned_rebuilds`: one pending rebuild per custom image (coalesced). */
export interface PlannedRebuildsTable {
  org_id: string;
  custom_image: string;
  /** 0: the latest revision when the build is requested. */
  revision: number;
  trigger: string;
  planned_at: Date;
  due_at: Date;
}

/** A stored build row. */
export type BuildRow = Selectable<BuildsTable>;

/** Tables of builds and rebuild planning. */
export interface BuildTables {
  builds: BuildsTable;
  custom_images: CustomImagesTable;
  planned_rebuilds: PlannedRebuildsTable;
}
