import type { GatewayDependencies } from "../gateway-dependencies.js";
import type { PullRoute } from "./pull-route.js";
import { checkReference, looksLikeDigest } from "./references.js";
import { authorizePull, requireVisibleOrg, serviceCall } from "./registry-access.js";
import { RegistryError, RegistryErrorCode } from "./registry-errors.js";

/**
 * Whether an `Accept` header admits `mediaType`. No header (or an empty one)
 * admits everything; parameters such as `q` are not weighed.
 */
export function acceptsMediaType(accept: string | undefined, mediaType: string): boolean {
  if (accept === undefined || accept.trim() === "") return true;
  const wanted = mediaType.toLowerCase();
  const family = `${wanted.split("/")[0] ?? ""}/*`;
  return accept.split(",").some((entry) => {
    const range = (entry.split(";")[0] ?? "").trim().toLowerCase();
    return range === "*/*" || range === family || range === wanted;
  });
}

/**
 * GET and HEAD `/v2/<org>/<image>/manifests/<tag|digest>`: the stored OCI
 * index or manifest, byte for byte, with its media type and digest. The
 * gateway never converts between formats. A tag whose stored type the
 * `Accept` header rules out is MANIFEST_UNKNOWN, saying so. A digest names
 * exactly one content, so it is served whatever `Accept` lists: refusing it
 * would only fail clients that resolve an index's children with an
 * incomplete list.
 */
export function manifestRoute(deps: GatewayDependencies): PullRoute {
  return {
    methods: ["GET", "HEAD"],
    url: "/v2/:org/:image/manifests/:reference",
    async serve(request, reply, params) {
      const { principal, repository } = await authorizePull(
        deps,
        request,
        params.org ?? "",
        params.image ?? "",
      );
      const reference = checkReference(params.reference ?? "");
      const manifest = await deps.registry.getManifest(
        { repository: repository.full, reference },
        await serviceCall(deps, request),
      );
      requireVisibleOrg(principal, repository, manifest.orgId);
      if (
        !looksLikeDigest(reference) &&
        !acceptsMediaType(request.headers.accept, manifest.mediaType)
      ) {
        throw new RegistryError(
          404,
          RegistryErrorCode.manifestUnknown,
          `manifest ${reference} of ${repository.full} is stored as ${manifest.mediaType}, which the Accept header does not list; this registry does not convert manifests`,
          { name: repository.full, reference, mediaType: manifest.mediaType },
        );
      }
      reply
        .code(200)
        .header("content-type", manifest.mediaType)
        .header("content-length", String(manifest.content.byteLength))
        .header("docker-content-digest", manifest.digest)
        .header("etag", `"${manifest.digest}"`);
      if (request.method === "HEAD") return reply.send();
      return reply.send(
        Buffer.from(manifest.content.buffer, manifest.content.byteOffset, manifest.content.length),
      );
    },
  };
}
