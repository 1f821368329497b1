import type { Kysely, Migration } from "@tailor/db";
import { sql } from "@tailor/db";

/** Repositories, their packages, sync records, end-of-life rules and the package event outbox. */
export const createRepositoriesAndPackages: Migration = {
  async up(db: Kysely<unknown>) {
    // Raw SQL resolves names through the migration's search_path (the catalog schema).
    await sql`
      create table repositories (
        name text primary key,
        kind text not null check (kind in ('upstream', 'hosted')),
        url text not null default '',
        arches jsonb not null,
        trusted_keys jsonb not null,
        mirror boolean not null default false,
        tag text not null default '',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        last_synced_at timestamptz,
        last_sync_attempt_at timestamptz,
        sync_lease_owner text,
        sync_lease_expires_at timestamptz
      )`.execute(db);

    await sql`
      create table repository_indexes (
        repository text not null references repositories (name) on delete cascade,
        arch text not null,
        index_digest text not null,
        signed_by text not null,
        description text not null default '',
        applied_at timestamptz not null,
        primary key (repository, arch)
      )`.execute(db);

    await sql`
      create table packages (
        id bigserial primary key,
        repository text not null references repositories (name) on delete cascade,
        arch text not null,
        name text not null,
        version text not null,
        checksum text not null,
        size bigint not null default 0,
        installed_size bigint not null default 0,
        description text not null default '',
        url text not null default '',
        license text not null default '',
        origin text not null default '',
        maintainer text not null default '',
        build_time bigint,
        commit text not null default '',
        provider_priority integer,
        depends jsonb not null default '[]',
        provides jsonb not null default '[]',
        install_if jsonb not null default '[]',
        provided_names jsonb not null default '[]',
        blob_digest text,
        via text not null check (via in ('sync', 'upload')),
        added_at timestamptz not null,
        unique (repository, arch, name, version)
      )`.execute(db);
    await sql`create index packages_name on packages (name text_pattern_ops)`.execute(db);
    await sql`create index packages_provided_names on packages using gin (provided_names jsonb_path_ops)`.execute(
      db,
    );

    await sql`
      create table repository_syncs (
        id uuid primary key,
        repository text not null references repositories (name) on delete cascade,
        trigger text not null check (trigger in ('manual', 'schedule')),
        status text not null check (status in ('succeeded', 'failed')),
        error text not null default '',
        arches jsonb not null default '[]',
        started_at timestamptz not null,
        finished_at timestamptz not null
      )`.execute(db);
    await sql`create index repository_syncs_newest on repository_syncs (repository, started_at desc)`.execute(
      db,
    );

    await sql`
      create table end_of_life_rules (
        package_name text primary key,
        before_version text not null default '',
        reason text not null default '',
        source text not null check (source in ('admin', 'policy')),
        updated_at timestamptz not null
      )`.execute(db);

    await sql`
      create table package_event_outbox (
        msg_id text primary key,
        payload bytea not null,
        created_at timestamptz not null
      )`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    for (const table of [
      "package_event_outbox",
      "end_of_life_rules",
      "repository_syncs",
      "packages",
      "repository_indexes",
      "repositories",
    ]) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};
