/**
 * @tailor/config — typed environment configuration. Every problem (missing or
 * invalid variable) is reported in one ConfigError.
 */

export type { ConfigProblem } from "./config-error.js";
export { ConfigError } from "./config-error.js";
export type { ConfigOf, EnvField, EnvSpec } from "./env-spec.js";
export { env } from "./env-spec.js";
export type { Environment } from "./load-config.js";
export { describeConfig, loadConfig } from "./load-config.js";
export type { PlatformConfig, ServiceName } from "./platform-config.js";
export {
  DEFAULT_GRPC_PORTS,
  envKey,
  grpcAddressVariable,
  loadPlatformConfig,
  platformSpec,
  SERVICE_NAMES,
  serviceAddress,
} from "./platform-config.js";
