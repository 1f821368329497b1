import { DatabaseError } from "./errors.js";

// Schema names end up inside SQL text (search_path, identifiers in DDL), so only
// plain lower-case identifiers that never need quoting rules are accepted.
const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws a DatabaseError unless `schema` is a lower-case Postgres identifier of at most 63 bytes. */
export function assertSchemaName(schema: string): void {
  if (!schemaNamePattern.test(schema)) {
    throw new DatabaseError(
      `Invalid schema name ${JSON.stringify(schema)}: expected ${schemaNamePattern.source} (lower-case letters, digits and _, at most 63 characters)`,
    );
  }
}
