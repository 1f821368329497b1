/** @tailor/cli — tailorctl's commands, usable as a library. */
export { apkCommand, apkUsage } from "./commands/apk/apk-command.js";
export { buildCommand, buildUsage } from "./commands/build/build-command.js";
export type { ImageConfig } from "./commands/build/image-config.js";
export { ImageConfigError, parseImageConfig } from "./commands/build/image-config.js";
export type { HealthReport } from "./commands/health-command.js";
export { formatHealth, healthCommand } from "./commands/health-command.js";
export type { Command, CommandIo } from "./commands/io.js";
export { UsageError } from "./commands/io.js";
