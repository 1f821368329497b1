/**
 * Declarative, typed environment variables. A spec is an object of fields;
 * {@link loadConfig} parses every field and reports every problem at once.
 */

/** One environment variable: how to parse it, its default and its meaning. */
export interface EnvField<T> {
  /** Variable name, e.g. `TAILOR_HTTP_PORT`. */
  readonly name: string;
  /** One sentence for the README's configuration table. */
  readonly doc: string;
  /** Default shown in documentation ("unset" when optional without default). */
  readonly defaultText: string;
  /** Parses the raw value (undefined when unset); returns the value or an error sentence. */
  parse(raw: string | undefined): { ok: true; value: T } | { ok: false; error: string };
}

/** An object of fields; its parsed shape is {@link ConfigOf}. */
export type EnvSpec = Record<string, EnvField<unknown>>;

/** The typed result of loading a spec. */
export type ConfigOf<S extends EnvSpec> = {
  [K in keyof S]: S[K] extends EnvField<infer T> ? T : never;
};

interface FieldOptions<T> {
  doc: string;
  default?: T;
}

type Parser<T> = (raw: string) => T | { error: string };

function isError(value: unknown): value is { error: string } {
  return typeof value === "object" && value !== null && "error" in value;
}

function field<T>(name: string, options: FieldOptions<T>, parse: Parser<T>): EnvField<T> {
  return {
    name,
    doc: options.doc,
    defaultText: options.default === undefined ? "required" : String(options.default),
    parse(raw) {
      if (raw === undefined || raw.trim() === "") {
        if (options.default !== undefined) return { ok: true, value: options.default };
        return { ok: false, error: "is required but not set" };
      }
      const value = parse(raw.trim());
      return isError(value) ? { ok: false, error: value.error } : { ok: true, value };
    },
  };
}

function optionalField<T>(name: string, doc: string, parse: Parser<T>): EnvField<T | undefined> {
  return {
    name,
    doc,
    defaultText: "unset",
    parse(raw) {
      if (raw === undefined || raw.trim() === "") return { ok: true, value: undefined };
      const value = parse(raw.trim());
      return isError(value) ? { ok: false, error: value.error } : { ok: true, value };
    },
  };
}

const parseString: Parser<string> = (raw) => raw;

function parseInteger(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw)) return { error: `must be a whole number, got "${raw}"` };
    const n = Number(raw);
    if (n < min || n > max) return { error: `must be between ${min} and ${max}, got ${n}` };
    return n;
  };
}

function parseUrl(protocols: readonly string[]): Parser<string> {
  return (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { error: `must be a URL (${protocols.join(", ")}), got "${raw}"` };
    }
    if (!protocols.includes(url.protocol)) {
      return { error: `must use ${protocols.join(" or ")}, got "${url.protocol}"` };
    }
    return raw;
  };
}

/** host:port, e.g. `127.0.0.1:50051`, `catalog:50051` or `[::1]:50051`. */
const parseHostPort: Parser<string> = (raw) => {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw);
  const port = match?.[2] === undefined ? Number.NaN : Number(match[2]);
  if (match === null || !(port >= 0 && port <= 65535)) {
    return { error: `must be host:port (e.g. 127.0.0.1:50051), got "${raw}"` };
  }
  return raw;
};

function parseEnum<T extends string>(values: readonly T[]): Parser<T> {
  return (raw) =>
    (values as readonly string[]).includes(raw)
      ? (raw as T)
      : { error: `must be one of ${values.join(", ")}, got "${raw}"` };
}

/** Field builders; each returns an {@link EnvField} for a spec. */
export const env = {
  /** A free-form string. */
  string: (name: string, options: FieldOptions<string>) => field(name, options, parseString),
  /** An optional string (undefined when unset). */
  optionalString: (name: string, doc: string) => optionalField(name, doc, parseString),
  /** A whole number within [min, max]. */
  integer: (name: string, options: FieldOptions<number> & { min?: number; max?: number }) =>
    field(
      name,
      options,
      parseInteger(options.min ?? Number.MIN_SAFE_INTEGER, options.max ?? Number.MAX_SAFE_INTEGER),
    ),
  /** A TCP port (0 means "pick a free one"). */
  port: (name: string, options: FieldOptions<number>) =>
    field(name, options, parseInteger(0, 65535)),
  /** A `host:port` network address. */
  address: (name: string, options: FieldOptions<string>) => field(name, options, parseHostPort),
  /** An optional `host:port` network address. */
  optionalAddress: (name: string, doc: string) => optionalField(name, doc, parseHostPort),
  /** An optional URL restricted to the given protocols (with trailing colon, e.g. "nats:"). */
  optionalUrl: (name: string, doc: string, protocols: readonly string[]) =>
    optionalField(name, doc, parseUrl(protocols)),
  /** One of a fixed set of words. */
  oneOf: <T extends string>(name: string, values: readonly T[], options: FieldOptions<T>) =>
    field(name, options, parseEnum(values)),
} as const;
