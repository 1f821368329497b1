import { Readable } from "node:stream";
import { TailorError } from "@tailor/grpc";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { authenticateRequest } from "../auth/request-credentials.js";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import { ServiceCredentialsMissingError } from "../gateway-dependencies.js";
import { sendApiError, sendCallFailure } from "../http/errors.js";
import type { EntitledIndex } from "./entitled-index.js";
import { ArchNotServedError, buildEntitledIndex } from "./entitled-index.js";
import { createEntitledIndexCache } from "./entitled-index-cache.js";
import { createIndexSigner } from "./index-signer.js";
import { repositoryJwks } from "./jwks.js";
import { createOrganizationLookup } from "./organization-lookup.js";
import type { ApkOrganization } from "./repository-key.js";

/** The challenge apk-tools answers with its HTTP_AUTH basic credentials. */
export const APK_BASIC_CHALLENGE = 'Basic realm="Tailor APK repository"';

/** Arch directory names (`x86_64`, `aarch64`, `armv7`, …). */
const ARCH = /^[a-z0-9_]{1,32}$/;

/** Authenticated, rate-limited and per-client; nothing a shared cache may keep. */
const PRIVATE = "private, no-cache";

type OrgParams = { org: string };
type ArchParams = { org: string; arch: string };

/**
 * Registers the organizations' private APK repositories under
 * `/apk/<org id or name>/`: `<arch>/APKINDEX.tar.gz` (exactly the entitled
 * packages, signed with the organization's current key and, during its
 * overlap, the previous one), `<arch>/<name>-<version>.apk`, and key
 * discovery (`apk-configuration` → `jwks.json`, `keys/<name>.rsa.pub`).
 * Every route wants HTTP basic credentials whose password is an API key or
 * an `apk` token: 401 with a Basic challenge without them (apk-tools sends
 * credentials only after one), 404 for an organization the caller is not in.
 */
export function registerApkRepositories(app: FastifyInstance, deps: GatewayDependencies): void {
  const now = () => deps.now();
  const keys = deps.apkKeys;
  const indexes = createEntitledIndexCache({ ttlSeconds: deps.config.apkIndexCacheSeconds, now });
  const signer = createIndexSigner();
  const organizations = createOrganizationLookup(deps);

  /** The organization the caller may read, or undefined after answering 401, 404 or 429. */
  async function repositoryOf(
    request: FastifyRequest<{ Params: OrgParams }>,
    reply: FastifyReply,
  ): Promise<ApkOrganization | undefined> {
    const outcome = await authenticateRequest(deps.auth, request, "apk", ["basic"]);
    if (!outcome.ok) {
      if (outcome.kind === "limited") {
        reply.header("retry-after", String(outcome.retryAfterSeconds));
        sendApiError(request, reply, 429, "RATE_LIMITED", outcome.message);
      } else {
        reply.header("www-authenticate", APK_BASIC_CHALLENGE);
        sendApiError(request, reply, 401, "UNAUTHENTICATED", outcome.message);
      }
      return undefined;
    }
    const org = await organizations.resolve(
      request,
      outcome.credential.principal,
      request.params.org,
    );
    if (org === undefined) {
      sendApiError(request, reply, 404, "NOT_FOUND", `no APK repository "${request.params.org}"`);
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

  /** Runs a route's work, answering what it throws. */
  async function answering(
    request: FastifyRequest,
    reply: FastifyReply,
    work: () => Promise<unknown>,
  ): Promise<unknown> {
    try {
      return await work();
    } catch (error) {
      if (reply.sent) {
        request.log.warn({ err: error }, "APK request failed after its answer started");
        return reply;
      }
      if (error instanceof ServiceCredentialsMissingError) {
        request.log.error({ err: error }, "APK repository cannot be served");
        return sendApiError(request, reply, 503, "UNAVAILABLE", error.message);
      }
      if (error instanceof ArchNotServedError) {
        return sendApiError(request, reply, 404, "NOT_FOUND", error.message);
      }
      if (!(error instanceof TailorError)) request.log.error({ err: error }, "APK request failed");
      return sendCallFailure(request, reply, error);
    }
  }

  app.get<{ Params: OrgParams }>("/apk/:org/apk-configuration", (request, reply) =>
    answering(request, reply, async () => {
      const org = await repositoryOf(request, reply);
      if (org === undefined) return reply;
      const base = `${deps.publicUrl(request)}/apk/${encodeURIComponent(request.params.org)}`;
      return reply.header("cache-control", PRIVATE).send({ jwks_uri: `${base}/jwks.json` });
    }),
  );

  app.get<{ Params: OrgParams }>("/apk/:org/jwks.json", (request, reply) =>
    answering(request, reply, async () => {
      const org = await repositoryOf(request, reply);
      if (org === undefined) return reply;
      const jwks = repositoryJwks(await keys.publishedKeys(org));
      return reply.header("cache-control", PRIVATE).type("application/json").send(jwks);
    }),
  );

  app.get<{ Params: OrgParams & { key: string } }>("/apk/:org/keys/:key", (request, reply) =>
    answering(request, reply, async () => {
      const org = await repositoryOf(request, reply);
      if (org === undefined) return reply;
      const key = (await keys.publishedKeys(org)).find((k) => k.name === request.params.key);
      if (key === undefined) {
        return sendApiError(
          request,
          reply,
          404,
          "NOT_FOUND",
          `no key "${request.params.key}" in this repository (its keys are listed in jwks.json)`,
        );
      }
      return reply
        .header("cache-control", PRIVATE)
        .type("application/x-pem-file")
        .send(key.publicKeyPem);
    }),
  );

  app.get<{ Params: ArchParams }>("/apk/:org/:arch/APKINDEX.tar.gz", (request, reply) =>
    answering(request, reply, async () => {
      const org = await repositoryOf(request, reply);
      if (org === undefined) return reply;
      const arch = request.params.arch;
      if (!ARCH.test(arch)) throw new ArchNotServedError(arch);
      const index = await indexOf(request, org, arch);
      const signed = await signer.sign(index, await keys.signingKeys(org));
      reply.header("cache-control", PRIVATE).header("etag", signed.etag);
      if (matchesEtag(request, signed.etag)) return reply.code(304).send();
      return reply
        .type("application/gzip")
        .header("content-length", String(signed.bytes.length))
        .send(Buffer.from(signed.bytes.buffer, signed.bytes.byteOffset, signed.bytes.length));
    }),
  );

  // HEAD is its own method here so it answers the package's length without reading its bytes.
  app.route<{ Params: ArchParams & { file: string } }>({
    method: ["GET", "HEAD"],
    url: "/apk/:org/:arch/:file",
    handler: (request, reply) =>
      answering(request, reply, async () => {
        const org = await repositoryOf(request, reply);
        if (org === undefined) return reply;
        const { arch, file } = request.params;
        if (!ARCH.test(arch)) throw new ArchNotServedError(arch);
        const listed = file.endsWith(".apk")
          ? (await indexOf(request, org, arch)).files.get(file)
          : undefined;
        if (listed === undefined) {
          return sendApiError(
            request,
            reply,
            404,
            "NOT_FOUND",
            `no package file "${file}" for ${arch} in this repository`,
          );
        }
        const { entry, repository } = listed;
        const fetched = await deps.catalog.fetchPackage(
          { repository, arch, name: entry.name, version: entry.version },
          { metadata: await deps.serviceMetadata(request) },
        );
        const etag = `"${fetched.blobDigest}"`;
        reply
          .header("cache-control", PRIVATE)
          .header("etag", etag)
          .type("application/octet-stream");
        if (matchesEtag(request, etag)) return reply.code(304).send();
        reply.header("content-length", String(fetched.size));
        if (request.method === "HEAD") return reply.send();
        const body = await deps.blobs.get(fetched.blobDigest);
        return reply.send(Readable.from(body, { objectMode: false }));
      }),
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
