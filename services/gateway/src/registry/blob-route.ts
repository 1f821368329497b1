import { Readable } from "node:stream";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import { parseByteRange } from "./byte-range.js";
import type { PullRoute } from "./pull-route.js";
import { checkDigest } from "./references.js";
import { authorizePull, requireVisibleOrg, serviceCall } from "./registry-access.js";
import { RegistryError, RegistryErrorCode } from "./registry-errors.js";

/**
 * GET and HEAD `/v2/<org>/<image>/blobs/<digest>`: a layer, config or other
 * blob, streamed from the blob store (never buffered), only when the
 * repository references it — a blob of another repository is unknown here
 * even if it is stored. Single byte ranges are served as 206; a valid range
 * starting past the end is 416, an invalid one is ignored (RFC 9110). The
 * headers that describe the blob (digest, ETag, a year-long immutable
 * Cache-Control, Accept-Ranges, Content-Range) go on successful answers
 * only; refusals are `no-store`.
 */
export function blobRoute(deps: GatewayDependencies): PullRoute {
  return {
    methods: ["GET", "HEAD"],
    url: "/v2/:org/:image/blobs/:digest",
    async serve(request, reply, params) {
      const { principal, repository } = await authorizePull(
        deps,
        request,
        params.org ?? "",
        params.image ?? "",
      );
      const digest = checkDigest(params.digest ?? "");
      const blob = await deps.registry.checkBlob(
        { repository: repository.full, digest },
        await serviceCall(deps, request),
      );
      requireVisibleOrg(principal, repository, blob.orgId);
      const unknown = new RegistryError(
        404,
        RegistryErrorCode.blobUnknown,
        `blob ${digest} is not part of ${repository.full}`,
        { name: repository.full, digest },
      );
      if (!blob.present) throw unknown;
      const stored = await deps.blobs.stat(digest);
      if (stored === undefined) {
        request.log.warn(
          { repository: repository.full, digest },
          "the registry references a blob the blob store does not have",
        );
        throw unknown;
      }
      const size = stored.size;
      const etag = `"${digest}"`;
      const ifRange = request.headers["if-range"];
      // A Range with an If-Range naming another validator falls back to the whole blob.
      const range = parseByteRange(
        ifRange === undefined || ifRange === etag ? request.headers.range : undefined,
        size,
      );
      if (range.kind === "unsatisfiable") {
        throw new RegistryError(
          416,
          RegistryErrorCode.rangeInvalid,
          `cannot serve that range of blob ${digest}: ${range.reason}`,
          { digest, size },
          { "content-range": `bytes */${size}` },
        );
      }
      const offset = range.kind === "partial" ? range.start : 0;
      const length = range.kind === "partial" ? range.end - range.start + 1 : size;
      // Opened before any header is set: a blob gone since the stat is a plain BLOB_UNKNOWN.
      const chunks =
        request.method === "HEAD" ? undefined : await deps.blobs.get(digest, { offset, length });
      reply
        .code(range.kind === "partial" ? 206 : 200)
        .header("accept-ranges", "bytes")
        .header("docker-content-digest", digest)
        .header("etag", etag)
        .header("cache-control", "private, max-age=31536000, immutable")
        .header("content-type", "application/octet-stream")
        .header("content-length", String(length));
      if (range.kind === "partial") {
        reply.header("content-range", `bytes ${range.start}-${range.end}/${size}`);
      }
      if (chunks === undefined) return reply.send();
      return reply.send(Readable.from(chunks, { objectMode: false }));
    },
  };
}
