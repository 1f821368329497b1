import type { ConfigProblem } from "./config-error.js";
import { ConfigError } from "./config-error.js";
import type { ConfigOf, EnvSpec } from "./env-spec.js";

/** The environment to read: `process.env` in services, a plain object in tests. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Parses every field of `spec` from `environment`.
 * @throws ConfigError listing every missing or invalid variable.
 */
export function loadConfig<S extends EnvSpec>(spec: S, environment: Environment): ConfigOf<S> {
  const result: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [key, field] of Object.entries(spec)) {
    const parsed = field.parse(environment[field.name]);
    if (parsed.ok) result[key] = parsed.value;
    else problems.push({ name: field.name, error: parsed.error });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result as ConfigOf<S>;
}

/** Rows for a configuration table: name, default, meaning. */
export function describeConfig(
  spec: EnvSpec,
): { name: string; defaultText: string; doc: string }[] {
  return Object.values(spec).map((f) => ({ name: f.name, defaultText: f.defaultText, doc: f.doc }));
}
