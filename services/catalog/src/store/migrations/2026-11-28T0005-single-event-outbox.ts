import type { Kysely, Migration } from "@tailor/db";
import { sql } from "@tailor/db";
import { createOutboxTable, dropOutboxTable } from "@tailor/outbox";

/**
 * One outbox for every catalog event (`event_outbox`, from @tailor/outbox)
 * instead of one per half: rows waiting in the package and image outboxes
 * move over with their msgIDs, oldest first, then the old tables go.
 */
export const singleEventOutbox: Migration = {
  async up(db: Kysely<unknown>) {
    await createOutboxTable(db, "event_outbox");
    await sql`
      insert into event_outbox (event_type, msg_id, payload, created_at)
      select 'catalog.package.published', msg_id, payload, created_at
      from package_event_outbox
      order by created_at, msg_id
      on conflict (msg_id) do nothing`.execute(db);
    // The image outbox named events by their key in the bus catalogue object.
    await sql`
      insert into event_outbox (event_type, msg_id, payload, created_at, attempts, last_error)
      select case event
          when 'sourceImageUpdated' then 'catalog.source-image.updated'
          when 'customImageUpdated' then 'catalog.custom-image.updated'
          else event
        end, msg_id, payload, created_at, attempts, last_error
      from image_event_outbox
      order by id
      on conflict (msg_id) do nothing`.execute(db);
    await db.schema.dropTable("package_event_outbox").execute();
    await db.schema.dropTable("image_event_outbox").execute();
  },
  async down(db: Kysely<unknown>) {
    await sql`
      create table package_event_outbox (
        msg_id text primary key,
        payload bytea not null,
        created_at timestamptz not null
      )`.execute(db);
    await sql`
      create table image_event_outbox (
        id bigserial primary key,
        event text not null,
        msg_id text not null unique,
        payload bytea not null,
        created_at timestamptz not null default now(),
        attempts integer not null default 0,
        last_error text
      )`.execute(db);
    await sql`
      insert into package_event_outbox (msg_id, payload, created_at)
      select msg_id, payload, created_at from event_outbox
      where event_type = 'catalog.package.published'`.execute(db);
    await sql`
      insert into image_event_outbox (event, msg_id, payload, created_at, attempts, last_error)
      select case event_type
          when 'catalog.source-image.updated' then 'sourceImageUpdated'
          when 'catalog.custom-image.updated' then 'customImageUpdated'
          else event_type
        end, msg_id, payload, created_at, attempts, last_error
      from event_outbox
      where event_type <> 'catalog.package.published'
      order by id`.execute(db);
    await dropOutboxTable(db, "event_outbox");
  },
};
