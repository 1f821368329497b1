import { canAccessOrg } from "@tailor/auth";
import { readBlob } from "@tailor/blob";
import type { HandlerContext, ServiceImpl } from "@tailor/grpc";
import type { builderV1 } from "@tailor/proto";
import type { BuilderDependencies } from "../builder-dependencies.js";
import {
  InvalidFieldError,
  ManifestNotFoundError,
  RepositoryNotFoundError,
} from "../builds/errors.js";
import type { Repository } from "../registry/stored-image.js";
import {
  findManifest,
  findRepository,
  findRepositoryBlob,
  findTag,
  listTagMoves,
  listTags,
} from "../store/registry-store.js";
import { tagMessage, tagMoveMessage } from "./proto-conversions.js";
import { withStatus } from "./to-status.js";

type RegistryImpl = ServiceImpl<typeof builderV1.RegistryService>;

const digestPattern = /^sha256:[0-9a-f]{64}$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * gRPC handlers of tailor.builder.v1.RegistryService: the read side of image
 * storage. Callers present an `api` token of a member of the repository's
 * organization (or an administrator); any other caller gets NOT_FOUND.
 */
export function createRegistryHandlers(deps: BuilderDependencies): RegistryImpl {
  async function visibleRepository(
    ctx: Pick<HandlerContext, "metadata">,
    name: string,
  ): Promise<Repository> {
    const principal = await deps.authenticate(ctx);
    if (name === "") throw new InvalidFieldError("repository", "repository is required");
    const repository = await findRepository(deps.db, name);
    if (repository === undefined || !canAccessOrg(principal, repository.orgId)) {
      throw new RepositoryNotFoundError(name);
    }
    return repository;
  }

  return {
    getManifest: (request, ctx) =>
      withStatus(async () => {
        const repository = await visibleRepository(ctx, request.repository);
        const reference = request.reference;
        let digest: string;
        if (digestPattern.test(reference)) {
          digest = reference;
        } else if (tagPattern.test(reference)) {
          const tag = await findTag(deps.db, repository.name, reference);
          if (tag === undefined) throw new ManifestNotFoundError(repository.name, reference);
          digest = tag.digest;
        } else {
          throw new InvalidFieldError(
            "reference",
            `reference ${JSON.stringify(reference)} is neither a tag nor a sha256 digest`,
          );
        }
        const manifest = await findManifest(deps.db, repository.name, digest);
        if (manifest === undefined) throw new ManifestNotFoundError(repository.name, reference);
        const content = await readBlob(deps.blobs, manifest.digest);
        return {
          mediaType: manifest.mediaType,
          digest: manifest.digest,
          content,
          orgId: repository.orgId,
        };
      }),

    listTags: (request, ctx) =>
      withStatus(async () => {
        const repository = await visibleRepository(ctx, request.repository);
        const tags = await listTags(deps.db, repository.name);
        return { orgId: repository.orgId, tags: tags.map(tagMessage) };
      }),

    getTagHistory: (request, ctx) =>
      withStatus(async () => {
        const repository = await visibleRepository(ctx, request.repository);
        if (!tagPattern.test(request.tag)) {
          throw new InvalidFieldError(
            "tag",
            `tag ${JSON.stringify(request.tag)} is not a valid tag`,
          );
        }
        const moves = await listTagMoves(deps.db, repository.name, request.tag);
        return { moves: moves.map(tagMoveMessage) };
      }),

    checkBlob: (request, ctx) =>
      withStatus(async () => {
        const repository = await visibleRepository(ctx, request.repository);
        if (!digestPattern.test(request.digest)) {
          throw new InvalidFieldError(
            "digest",
            `digest ${JSON.stringify(request.digest)} is not sha256:<64 hex digits>`,
          );
        }
        const blob = await findRepositoryBlob(deps.db, repository.name, request.digest);
        if (blob === undefined) return { present: false, orgId: repository.orgId };
        return {
          present: true,
          size: BigInt(blob.size),
          mediaType: blob.mediaType,
          orgId: repository.orgId,
        };
      }),
  };
}
