import type { ColumnType, Selectable } from "@tailor/db";

/** JSON stored as jsonb: read back parsed, written as JSON text. */
type JsonColumn = ColumnType<unknown, string, string>;

/** Row shape of `catalog.source_images`: the current generation of each source image. */
export interface SourceImagesTable {
  name: string;
  main_package: string;
  /** The normalized {@link SourceImageDefinition} as JSON. */
  definition: JsonColumn;
  yaml: string;
  generation: number;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** Row shape of `catalog.custom_images`: one row per organization's image, pointing at its latest revision. */
export interface CustomImagesTable {
  org_id: string;
  name: string;
  source_image: string;
  latest_revision: number;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** Row shape of `catalog.custom_image_revisions`: every revision, never changed once written. */
export interface CustomImageRevisionsTable {
  org_id: string;
  name: string;
  revision: number;
  /** The whole {@link Overlay} as JSON. */
  overlay: JsonColumn;
  author_name: string;
  author_subject: string;
  comment: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** A stored source image row. */
export type SourceImageRow = Selectable<SourceImagesTable>;
/** A stored custom image row. */
export type CustomImageRow = Selectable<CustomImagesTable>;
/** A stored revision row. */
export type CustomImageRevisionRow = Selectable<CustomImageRevisionsTable>;

/** Tables of source images and custom images with their revisions. */
export interface ImageTables {
  source_images: SourceImagesTable;
  custom_images: CustomImagesTable;
  custom_image_revisions: CustomImageRevisionsTable;
}
