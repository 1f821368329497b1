import type { Kysely, Migration } from "@tailor/db";
import { createOutboxTable, dropOutboxTable } from "@tailor/outbox";

/**
 * The outbox of entitlement events (@tailor/outbox): `org.created` is written
 * in the transaction that creates the organization and published after commit.
 */
export const createEventOutbox: Migration = {
  async up(db: Kysely<unknown>) {
    await createOutboxTable(db, "event_outbox");
  },
  async down(db: Kysely<unknown>) {
    await dropOutboxTable(db, "event_outbox");
  },
};
