// Two builds of one image committing at once, on real Postgres: the
// repository lock serialises them, so only one records creating a tag, and
// the tag_moves_created_once index refuses a second "created" move.
import type { Database, Kysely, Transaction } from "@tailor/db";
import { sql } from "@tailor/db";
import type { TestDatabase } from "@tailor/testing";
import { createTestDatabase, testLogger } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuilderDatabase } from "../src/store/builder-database.js";
import { migrations } from "../src/store/migrations/index.js";
import { ensureRepository, listTagMoves, moveTags } from "../src/store/registry-store.js";

const logger = testLogger();
const digest = (char: string) => `sha256:${char.repeat(64)}`;
const BUILD_A = "0190a000-0000-7000-8000-00000000000a";
const BUILD_B = "0190a000-0000-7000-8000-00000000000b";

describe("tag moves of concurrent commits", () => {
  let pg: TestDatabase;
  let database: Database;
  let db: Kysely<BuilderDatabase>;

  beforeAll(async () => {
    pg = await createTestDatabase({ logger });
    database = pg.database;
    await database.migrate("builder", migrations);
    db = database.forSchema<BuilderDatabase>("builder");
  });

  afterAll(async () => {
    await pg?.cleanup();
  });

  /** Runs `work` in a transaction that commits only once `commit` resolves. */
  function heldTransaction(
    work: (trx: Transaction<BuilderDatabase>) => Promise<unknown>,
    commit: Promise<void>,
  ): { done: Promise<unknown>; worked: Promise<void> } {
    let worked: () => void = () => undefined;
    const workedPromise = new Promise<void>((resolve) => {
      worked = resolve;
    });
    const done = db.transaction().execute(async (trx) => {
      const result = await work(trx);
      worked();
      await commit;
      return result;
    });
    return { done, worked: workedPromise };
  }

  for (const [title, second] of [
    ["to the same digest", digest("a")],
    ["to another digest", digest("b")],
  ] as const) {
    it(`records one creation when two builds create a tag at once (${title})`, async () => {
      const repository = `acme/race-${second.slice(-1)}`;
      await ensureRepository(db, { name: repository, orgId: "org", customImage: "race" });
      let commitFirst: () => void = () => undefined;
      const firstCommits = new Promise<void>((resolve) => {
        commitFirst = resolve;
      });
      const now = new Date("2026-11-29T10:00:00Z");
      const first = heldTransaction(
        (trx) => moveTags(trx, repository, [{ name: "3.13", digest: digest("a") }], BUILD_A, now),
        firstCommits,
      );
      await first.worked;
      // The second commit starts while the first holds its transaction open.
      let secondDone = false;
      const secondCommit = db
        .transaction()
        .execute((trx) =>
          moveTags(trx, repository, [{ name: "3.13", digest: second }], BUILD_B, now),
        )
        .finally(() => {
          secondDone = true;
        });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(secondDone).toBe(false);
      commitFirst();
      expect(await first.done).toHaveLength(1);
      const secondMoves = await secondCommit;
      const history = await listTagMoves(db, repository, "3.13");
      if (second === digest("a")) {
        expect(secondMoves).toEqual([]);
        expect(history.map((move) => [move.fromDigest, move.toDigest, move.buildId])).toEqual([
          ["", digest("a"), BUILD_A],
        ]);
      } else {
        expect(history.map((move) => [move.fromDigest, move.toDigest, move.buildId])).toEqual([
          [digest("a"), digest("b"), BUILD_B],
          ["", digest("a"), BUILD_A],
        ]);
      }
    });
  }

  it("refuses a second creation of a tag in the database itself", async () => {
    const repository = "acme/race-a";
    const inserted = await db
      .insertInto("tag_moves")
      .values({
        repository,
        tag: "3.13",
        from_digest: "",
        to_digest: digest("c"),
        build_id: BUILD_B,
        moved_at: new Date(),
      })
      .execute()
      .then(
        () => "inserted",
        (error: unknown) => String((error as { message?: string }).message),
      );
    expect(inserted).toContain("tag_moves_created_once");
    const count = await db
      .selectFrom("tag_moves")
      .select(sql<number>`count(*)::int`.as("n"))
      .where("repository", "=", repository)
      .where("tag", "=", "3.13")
      .executeTakeFirstOrThrow();
    expect(count.n).toBe(1);
  });
});
