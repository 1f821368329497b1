import type { Kysely, Migration } from "@tailor/db";

/** Source images and custom images with their revisions. */
export const createImages: Migration = {
  async up(_db: Kysely<unknown>) {},
  async down(_db: Kysely<unknown>) {},
};
