/** @tailor/cli — tailorctl's commands, usable as a library. */

export type { HealthReport } from "./health-command.js";
export { formatHealth, healthCommand } from "./health-command.js";
