/** One variable that could not be used, and why. */
export interface ConfigProblem {
  /** Variable name. */
  readonly name: string;
  /** What is wrong with it, as a sentence fragment ("must be a whole number, got …"). */
  readonly error: string;
}

/**
 * Thrown by loadConfig when any variable is missing or invalid; its message
 * lists every problem at once so an operator fixes them in one go.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** Every problem found. */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.name} ${p.error}`);
    super(`invalid configuration (${problems.length} problem(s)):\n${lines.join("\n")}`);
    this.problems = problems;
  }
}
