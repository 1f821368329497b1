import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import { blobRoute } from "./blob-route.js";
import { manifestRoute } from "./manifest-route.js";
import type { PullRoute } from "./pull-route.js";
import { decodedPathSegment, matchPullRoute, registerPullRoute } from "./pull-route.js";
import { authenticateRegistryRequest } from "./registry-access.js";
import {
  RegistryError,
  RegistryErrorCode,
  registryErrorOf,
  sendRegistryError,
} from "./registry-errors.js";
import { tagHistoryRoute, tagListRoute } from "./tag-routes.js";
import { registerTokenRoute } from "./token-route.js";

/** The request methods of the push side, which this registry does not offer. */
const PUSH_METHODS = ["PUT", "POST", "PATCH", "DELETE"] as const;

/** Paths of repository routes, to tell a malformed name from an unknown endpoint. */
const REPOSITORY_ROUTE =
  /^\/v2\/(.+?)\/(?:manifests\/[^/]+|blobs\/[^/]+|tags\/list|_tailor\/history\/[^/]+)$/;

/**
 * Registers the OCI distribution pull API (/v2) and the registry token
 * endpoint (/token) in their own scope: every answer carries
 * `Docker-Distribution-API-Version: registry/2.0`, and every refusal is an
 * OCI error body (`{"errors":[{"code","message","detail"}]}`).
 */
export function registerRegistry(app: FastifyInstance, deps: GatewayDependencies): void {
  void app.register(async (scope) => {
    scope.addHook("onRequest", async (_request, reply) => {
      reply.header("docker-distribution-api-version", "registry/2.0");
    });
    scope.setErrorHandler((error, request, reply) =>
      sendRegistryError(reply, registryErrorOf(request, error)),
    );

    // The version check clients start with: 200 when authenticated, else the challenge.
    const versionCheck = async (request: FastifyRequest, reply: FastifyReply) => {
      await authenticateRegistryRequest(deps, request);
      return reply.type("application/json; charset=utf-8").send({});
    };
    scope.route({
      method: ["GET", "HEAD"],
      url: "/v2/",
      exposeHeadRoute: false,
      handler: versionCheck,
    });
    scope.route({
      method: ["GET", "HEAD"],
      url: "/v2",
      exposeHeadRoute: false,
      handler: versionCheck,
    });

    registerTokenRoute(scope, deps);
    const pullRoutes: PullRoute[] = [
      manifestRoute(deps),
      blobRoute(deps),
      tagListRoute(deps),
      tagHistoryRoute(deps),
    ];
    for (const route of pullRoutes) registerPullRoute(scope, route);

    // Any other read: a path parameter too long for fastify's router, a
    // repository name of the wrong shape, or no such endpoint.
    scope.route({
      method: ["GET", "HEAD"],
      url: "/v2/*",
      exposeHeadRoute: false,
      async handler(request, reply) {
        const path = request.url.split("?")[0] ?? "";
        const matched = matchPullRoute(pullRoutes, request.method, path);
        if (matched !== undefined) return matched.route.serve(request, reply, matched.params);
        await authenticateRegistryRequest(deps, request);
        const name = REPOSITORY_ROUTE.exec(path)?.[1];
        if (name !== undefined) {
          throw new RegistryError(
            400,
            RegistryErrorCode.nameInvalid,
            `invalid repository name ${JSON.stringify(decodedPathSegment(name))}: repositories here are named <organization>/<image>`,
          );
        }
        throw new RegistryError(
          404,
          RegistryErrorCode.unsupported,
          `no registry endpoint at ${path}: this registry serves manifests, blobs, tags/list and _tailor/history of <organization>/<image>`,
        );
      },
    });

    // Pushes are refused before their bodies are read (in onRequest, ahead of body parsing).
    scope.route({
      method: [...PUSH_METHODS],
      url: "/v2/*",
      async onRequest(request) {
        await authenticateRegistryRequest(deps, request);
        throw new RegistryError(
          405,
          RegistryErrorCode.unsupported,
          `${request.method} is not supported: this registry is pull-only; Tailor builds and stores images itself`,
          undefined,
          { allow: "GET, HEAD" },
        );
      },
      handler: async () => undefined,
    });
  });
}
