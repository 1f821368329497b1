/** A service a test needs (Postgres, NATS) could not be reached or started; the message says how to provide it. */
export class TestServiceUnavailableError extends Error {
  override readonly name: string = "TestServiceUnavailableError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** One line describing a thrown value, including the codes Node and pg put on errors. */
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

/** The URL with any password replaced, for error messages. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
