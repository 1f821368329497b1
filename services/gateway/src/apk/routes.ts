import { Readable } from "node:stream";
import { BlobNotFoundError } from "@tailor/blob";
import { Code, TailorError } from "@tailor/grpc";
import type { catalogV1 } from "@tailor/proto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { authenticateRequest } from "../auth/request-credentials.js";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import { ApkRequestError, sendApkError } from "./apk-errors.js";
import type { EntitledIndex } from "./entitled-index.js";
import { ArchNotServedError, buildEntitledIndex } from "./entitled-index.js";
import { createEntitledIndexCache } from "./entitled-index-cache.js";
import { createIndexSigner } from "./index-signer.js";
import { KEY_FILE_SUFFIX, repositoryJwks } from "./jwks.js";
import { createOrganizationLookup } from "./organization-lookup.js";
import type { ApkOrganization } from "./repository-key.js";

/** The challenge apk-tools answers with its HTTP_AUTH basic credentials. */
export const APK_BASIC_CHALLENGE = 'Basic realm="Tailor APK repository"';

/** Arch directory names (`x86_64`, `aarch64`, `armv7`, …). */
const ARCH = /^[a-z0-9_]{1,32}$/;

/** Authenticated, rate-limited and per-client; nothing a shared cache may keep. */
const PRIVATE = "private, no-cache";

/** How long a client is told to wait when a listed package's bytes are missing. */
const MISSING_BYTES_RETRY_AFTER_SECONDS = "30";

type OrgParams = { org: string };
type ArchParams = { org: string; arch: string };

/**
 * Registers the organizations' private APK repositories under
 * `/apk/<org id or name>/`: `<arch>/APKINDEX.tar.gz` (exactly the entitled
 * packages, signed with the organization's current key and, during its
 * overlap, the previous one), `<arch>/<name>-<version>.apk`, and key
 * discovery as apko (go-apk) does it: `apk-configuration` → `jwks.json`,
 * whose `kid`s name the key files `<kid>.rsa.pub` served beside the
 * repository (and, as before, under `keys/`).
 *
 * Every route wants HTTP basic credentials whose password is an API key or
 * an `apk` token: 401 with a Basic challenge without them (apk-tools sends
 * credentials only after one), 404 for an organization the caller is not in.
 * Errors are answered in the REST error format by the scope's error
 * handler, `no-store`. A refusal of the gateway's own service identity, or a
 * listed package whose bytes are missing from the blob store, is 503 with
 * Retry-After: the operator's to fix, and the package does exist.
 */
export function registerApkRepositories(app: FastifyInstance, deps: GatewayDependencies): void {
  void app.register(async (scope) => {
    const now = () => deps.now();
    const keys = deps.apkKeys;
    const indexes = createEntitledIndexCache({
      ttlSeconds: deps.config.apkIndexCacheSeconds,
      now,
    });
    scope.addHook("onClose", async () => indexes.close());
    const signer = createIndexSigner();
    const organizations = createOrganizationLookup(deps);

    scope.setErrorHandler((error, request, reply) => {
      if (reply.sent) {
        request.log.warn({ err: error }, "APK request failed after its answer started");
        return;
      }
      return sendApkError(request, reply, error);
    });

    /**
     * The organization the caller may read.
     * @throws ApkRequestError 401 (with the Basic challenge), 404 or 429.
     */
    async function repositoryOf(
      request: FastifyRequest<{ Params: OrgParams }>,
    ): Promise<ApkOrganization> {
      const outcome = await authenticateRequest(deps.auth, request, "apk", ["basic"]);
      if (!outcome.ok) {
        if (outcome.kind === "limited") {
          throw new ApkRequestError(429, "RATE_LIMITED", outcome.message, {
            "retry-after": String(outcome.retryAfterSeconds),
          });
        }
        throw new ApkRequestError(401, "UNAUTHENTICATED", outcome.message, {
          "www-authenticate": APK_BASIC_CHALLENGE,
        });
      }
      const org = await organizations.resolve(
        request,
        outcome.credential.principal,
        request.params.org,
      );
      if (org === undefined) {
        throw new ApkRequestError(404, "NOT_FOUND", `no APK repository "${request.params.org}"`);
      }
      return org;
    }

    function indexOf(
      request: FastifyRequest,
      org: ApkOrganization,
      arch: string,
    ): Promise<EntitledIndex> {
      return indexes.get(org, arch, async () => {
        const started = performance.now();
        const index = await buildEntitledIndex(
          { resolver: deps.resolver, catalog: deps.catalog, logger: deps.logger },
          org,
          arch,
          { metadata: await deps.serviceMetadata(request) },
          deps.now(),
        );
        request.log.info(
          {
            org: org.name,
            orgId: org.id,
            arch,
            packages: index.entries.length,
            ms: Math.round(performance.now() - started),
          },
          "APK index built",
        );
        return index;
      });
    }

    /** Answers the published key whose file name is `file`, or 404. */
    async function sendKeyFile(org: ApkOrganization, file: string, reply: FastifyReply) {
      const key = (await keys.publishedKeys(org)).find((k) => k.name === file);
      if (key === undefined) {
        throw new ApkRequestError(
          404,
          "NOT_FOUND",
          `no key file "${file}" in this repository (jwks.json lists its keys; each key's file is <kid>${KEY_FILE_SUFFIX})`,
        );
      }
      return reply
        .header("cache-control", PRIVATE)
        .type("application/x-pem-file")
        .send(key.publicKeyPem);
    }

    scope.get<{ Params: OrgParams }>("/apk/:org/apk-configuration", async (request, reply) => {
      await repositoryOf(request);
      const base = `${deps.publicUrl(request)}/apk/${encodeURIComponent(request.params.org)}`;
      return reply.header("cache-control", PRIVATE).send({ jwks_uri: `${base}/jwks.json` });
    });

    scope.get<{ Params: OrgParams }>("/apk/:org/jwks.json", async (request, reply) => {
      const org = await repositoryOf(request);
      const jwks = repositoryJwks(await keys.publishedKeys(org));
      return reply.header("cache-control", PRIVATE).type("application/json").send(jwks);
    });

    // Where go-apk fetches a discovered key: `<repository>/<kid>.rsa.pub`.
    scope.get<{ Params: OrgParams & { file: string } }>(
      "/apk/:org/:file",
      async (request, reply) => {
        const org = await repositoryOf(request);
        return sendKeyFile(org, request.params.file, reply);
      },
    );

    scope.get<{ Params: OrgParams & { file: string } }>(
      "/apk/:org/keys/:file",
      async (request, reply) => {
        const org = await repositoryOf(request);
        return sendKeyFile(org, request.params.file, reply);
      },
    );

    scope.get<{ Params: ArchParams }>("/apk/:org/:arch/APKINDEX.tar.gz", async (request, reply) => {
      const org = await repositoryOf(request);
      const arch = request.params.arch;
      if (!ARCH.test(arch)) throw new ArchNotServedError(arch);
      const index = await indexOf(request, org, arch);
      const signed = await signer.sign(index, await keys.signingKeyPairs(org));
      reply.header("cache-control", PRIVATE).header("etag", signed.etag);
      if (matchesEtag(request, signed.etag)) return reply.code(304).send();
      return reply
        .type("application/gzip")
        .header("content-length", String(signed.bytes.length))
        .send(Buffer.from(signed.bytes.buffer, signed.bytes.byteOffset, signed.bytes.length));
    });

    // HEAD is its own method here so it answers the package's length without reading its bytes.
    scope.route<{ Params: ArchParams & { file: string } }>({
      method: ["GET", "HEAD"],
      url: "/apk/:org/:arch/:file",
      async handler(request, reply) {
        const org = await repositoryOf(request);
        const { arch, file } = request.params;
        if (!ARCH.test(arch)) throw new ArchNotServedError(arch);
        const listed = file.endsWith(".apk")
          ? (await indexOf(request, org, arch)).files.get(file)
          : undefined;
        if (listed === undefined) {
          throw new ApkRequestError(
            404,
            "NOT_FOUND",
            `no package file "${file}" for ${arch} in this repository`,
          );
        }
        const { entry, repository } = listed;
        // The package is in the index the client holds, so missing bytes are
        // the operator's to fix (or a store catching up): 503, not 404.
        const missing = (digest: string | undefined, cause?: unknown) => {
          request.log.error(
            { org: org.name, arch, repository, package: file, digest, err: cause },
            "a listed package's bytes are missing from the blob store",
          );
          return new ApkRequestError(
            503,
            "UNAVAILABLE",
            `package file "${file}" is in this repository but its bytes are missing from the blob store; try again later`,
            { "retry-after": MISSING_BYTES_RETRY_AFTER_SECONDS },
          );
        };
        let fetched: catalogV1.FetchPackageResponse;
        try {
          fetched = await deps.catalog.fetchPackage(
            { repository, arch, name: entry.name, version: entry.version },
            { metadata: await deps.serviceMetadata(request) },
          );
        } catch (error) {
          // The catalog checks the shared store too (and re-downloads mirrored packages).
          if (
            error instanceof TailorError &&
            error.code === Code.DATA_LOSS &&
            error.reason === "package_bytes_missing"
          ) {
            throw missing(undefined, error);
          }
          throw error;
        }
        const digest = fetched.blobDigest;
        const etag = `"${digest}"`;
        if (matchesEtag(request, etag)) {
          return reply.code(304).header("cache-control", PRIVATE).header("etag", etag).send();
        }
        // The stored size is what will be streamed, whatever the catalog recorded.
        const stored = await deps.blobs.stat(digest);
        if (stored === undefined) throw missing(digest);
        if (stored.size !== Number(fetched.size)) {
          request.log.warn(
            { package: file, digest, stored: stored.size, catalog: Number(fetched.size) },
            "the catalog's package size differs from the stored blob's",
          );
        }
        let body: AsyncIterable<Uint8Array> | undefined;
        if (request.method !== "HEAD") {
          try {
            body = await deps.blobs.get(digest);
          } catch (error) {
            if (error instanceof BlobNotFoundError) throw missing(digest, error);
            throw error;
          }
        }
        reply
          .header("cache-control", PRIVATE)
          .header("etag", etag)
          .type("application/octet-stream")
          .header("content-length", String(stored.size));
        if (body === undefined) return reply.send();
        return reply.send(Readable.from(body, { objectMode: false }));
      },
    });
  });
}

/** Whether the request's If-None-Match names `etag` (weak comparison, as RFC 9110 asks). */
function matchesEtag(request: FastifyRequest, etag: string): boolean {
  const header = request.headers["if-none-match"];
  if (typeof header !== "string") return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
}
