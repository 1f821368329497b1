import type { ColumnType, Generated } from "@tailor/db";

/** Row shape of `builder.repositories`: `<org name>/<custom image>`. */
export interface RepositoriesTable {
  name: string;
  org_id: string;
  custom_image: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** Row shape of `builder.manifests`: a manifest or index stored in the blob store. */
export interface ManifestsTable {
  repository: string;
  digest: string;
  media_type: string;
  size: ColumnType<string | number, number, number>;
  build_id: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** Row shape of `builder.repository_blobs`: which blobs a repository's images reference. */
export interface RepositoryBlobsTable {
  repository: string;
  digest: string;
  media_type: string;
  size: ColumnType<string | number, number, number>;
}

/** Row shape of `builder.tags`. */
export interface TagsTable {
  repository: string;
  name: string;
  digest: string;
  build_id: string;
  updated_at: Date;
}

/** Row shape of `builder.tag_moves`: every change of a tag, never deleted. */
export interface TagMovesTable {
  id: Generated<string>;
  repository: string;
  tag: string;
  /** "" when the move created the tag. */
  from_digest: string;
  to_digest: string;
  build_id: string;
  moved_at: Date;
}

/** Tables of registry storage. */
export interface RegistryTables {
  repositories: RepositoriesTable;
  manifests: ManifestsTable;
  repository_blobs: RepositoryBlobsTable;
  tags: TagsTable;
  tag_moves: TagMovesTable;
}
