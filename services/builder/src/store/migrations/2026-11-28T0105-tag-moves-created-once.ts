import type { Kysely, Migration } from "@tailor/db";
import { sql } from "@tailor/db";

/**
 * A tag is created once: at most one move per (repository, tag) starts from
 * nothing (`from_digest = ''`). Commits of one repository are serialised by a
 * row lock (`moveTags`); this index is the guarantee behind it, so two builds
 * committing at once can never both record creating the same tag.
 */
export const tagMovesCreatedOnce: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex("tag_moves_created_once")
      .on("tag_moves")
      .columns(["repository", "tag"])
      .unique()
      .where(sql.ref("from_digest"), "=", "")
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex("tag_moves_created_once").execute();
  },
};
