/** Failure to open, reach or use a database; the message names the host or data directory. */
export class DatabaseError extends Error {
  override readonly name: string = "DatabaseError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A schema's migrations did not complete; names the schema and, when known, the failing migration. */
export class MigrationError extends DatabaseError {
  override readonly name: string = "MigrationError";
  /** Postgres schema whose migrations were running. */
  readonly schema: string;
  /** Name of the migration that failed, or undefined when the failure came before any ran. */
  readonly migration: string | undefined;

  constructor(
    message: string,
    details: { schema: string; migration: string | undefined },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.schema = details.schema;
    this.migration = details.migration;
  }
}

/** One line describing a thrown value, including the codes pg and Node put on errors. */
export function describeCause(cause: unknown): string {
  if (cause instanceof AggregateError && cause.errors.length > 0) {
    return cause.errors.map(describeCause).join("; ");
  }
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const message = cause.message !== "" ? cause.message : cause.name;
    return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(cause);
}
