/**
 * @tailor/solver — a pure dependency solver with apk-tools' semantics: the
 * install closure of a world in apk's order, or apk's error report, plus
 * Tailor's pinned packages, entitlement predicate and version backtracking.
 */

export type { SolveProblem } from "./error-report.js";
export { formatHumanSize, formatInstallOutput } from "./install-output.js";
export type { SolvedPackage, SolveRequest, SolveResult } from "./solve.js";
export { solve } from "./solve.js";
export { createUniverse, MAX_REPOSITORIES, universeFromIndexes } from "./universe.js";
export type { Universe, UniversePackage } from "./universe-types.js";
