import type { Kysely, Migration } from "@tailor/db";

/** Repositories, their packages, sync records and end-of-life rules. */
export const createRepositoriesAndPackages: Migration = {
  async up(_db: Kysely<unknown>) {},
  async down(_db: Kysely<unknown>) {},
};
