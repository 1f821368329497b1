import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * One repository route of the pull API, described once so it can be both a
 * fastify route and a fallback of the `/v2/*` catch-all: fastify's router
 * does not match path parameters longer than its `maxParamLength` (100), and
 * tags may have 128 characters.
 */
export interface PullRoute {
  /** Methods served. */
  readonly methods: readonly ("GET" | "HEAD")[];
  /** Fastify path, e.g. `/v2/:org/:image/manifests/:reference`. */
  readonly url: string;
  /** Answers the request; `params` are the URL-decoded path parameters by name. */
  serve(
    request: FastifyRequest,
    reply: FastifyReply,
    params: Readonly<Record<string, string>>,
  ): Promise<FastifyReply>;
}

/** Registers `route` with fastify (HEAD explicitly, so a HEAD never runs the GET's work). */
export function registerPullRoute(scope: FastifyInstance, route: PullRoute): void {
  scope.route({
    method: [...route.methods],
    url: route.url,
    exposeHeadRoute: false,
    handler: (request, reply) =>
      route.serve(request, reply, request.params as Readonly<Record<string, string>>),
  });
}

/** `text` with its percent-escapes decoded, or as is when they are malformed. */
export function decodedPathSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The route among `routes` whose path pattern `path` (without its query)
 * matches, with its decoded parameters; undefined when none does.
 */
export function matchPullRoute(
  routes: readonly PullRoute[],
  method: string,
  path: string,
): { route: PullRoute; params: Record<string, string> } | undefined {
  const segments = path.split("/");
  for (const route of routes) {
    if (!route.methods.includes(method as "GET" | "HEAD")) continue;
    const pattern = route.url.split("/");
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matched = pattern.every((part, index) => {
      const segment = segments[index] ?? "";
      if (part.startsWith(":")) {
        params[part.slice(1)] = decodedPathSegment(segment);
        return segment !== "";
      }
      return part === segment;
    });
    if (matched) return { route, params };
  }
  return undefined;
}
