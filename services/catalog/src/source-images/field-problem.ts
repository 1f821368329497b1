/**
 * One thing wrong with a definition or a request, at an exact path such as
 * `accounts.users[1].uid` or `overlay.environment.TAILOR_X`.
 */
export interface FieldProblem {
  /** Path of the offending value, in the caller's own words (YAML keys, proto field names). */
  readonly field: string;
  /** What is wrong and, when it helps, what would be right. */
  readonly message: string;
}

/**
 * Several problems found in one pass, so a caller fixes them all at once.
 * The message lists every problem as `field: message`, one after the other.
 */
export class InvalidFieldsError extends Error {
  override readonly name: string = "InvalidFieldsError";

  constructor(
    /** What was being checked, e.g. `source image "python"`. */
    readonly subject: string,
    /** Every problem, in the order of the input; never empty. */
    readonly problems: readonly FieldProblem[],
  ) {
    super(describeProblems(subject, problems));
  }

  /** The first offending field. */
  get field(): string {
    return this.problems[0]?.field ?? "";
  }
}

/** `<subject> is invalid: <n> problems: a: …; b: …`. */
export function describeProblems(subject: string, problems: readonly FieldProblem[]): string {
  const listed = problems.map((problem) => `${problem.field}: ${problem.message}`).join("; ");
  const count = problems.length === 1 ? "" : ` (${problems.length} problems)`;
  return `${subject} is invalid${count}: ${listed}`;
}
