import type { ColumnType, Generated, Insertable, Selectable } from "@tailor/db";

type Timestamp = ColumnType<Date, Date, Date>;
type Json<T> = ColumnType<T, string, string>;

/** `builds`: one row per build, merged from its events. */
export interface BuildsTable {
  id: string;
  org_id: string;
  custom_image: string;
  revision: number;
  trigger: string;
  version: string;
  status: string;
  digests: Json<Record<string, string>>;
  tags: Json<string[]>;
  created_at: Timestamp;
  queued_at: Timestamp | null;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  duration_ms: ColumnType<string, number, number>;
  worker: string;
  failure_code: string;
  failure_message: string;
  up_to_date: boolean;
}

/** `build_log_lines`: one row per log line, keyed (build_id, seq). */
export interface BuildLogLinesTable {
  build_id: string;
  seq: ColumnType<string, number, number>;
  time: Timestamp;
  level: string;
  step: string;
  text: string;
  /** When the line was stored (the database's clock); set by the database. */
  recorded_at: Generated<Date>;
}

/** `tag_moves`: every time a successful build pointed a tag at its images. */
export interface TagMovesTable {
  org_id: string;
  custom_image: string;
  tag: string;
  build_id: string;
  digests: Json<Record<string, string>>;
  moved_at: Timestamp;
}

/** A `builds` row as read. */
export type BuildRow = Selectable<BuildsTable>;
/** A `builds` row to insert. */
export type NewBuildRow = Insertable<BuildsTable>;
/** A `build_log_lines` row as read. */
export type LogLineRow = Selectable<BuildLogLinesTable>;
/** A `tag_moves` row as read. */
export type TagMoveRow = Selectable<TagMovesTable>;

/** Tables of the `build_history` schema. */
export interface HistoryDatabase {
  builds: BuildsTable;
  build_log_lines: BuildLogLinesTable;
  tag_moves: TagMovesTable;
}
