import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import type { PullRoute } from "./pull-route.js";
import { checkTag } from "./references.js";
import { authorizePull, requireVisibleOrg, serviceCall } from "./registry-access.js";
import { RegistryError, RegistryErrorCode } from "./registry-errors.js";

/** Most tags one page of tags/list carries; more are reached through the `Link` header. */
export const MAX_TAGS_PER_PAGE = 1000;

/** Body of tags/list, as the distribution spec defines it. */
export interface TagListBody {
  readonly name: string;
  readonly tags: readonly string[];
}

/** One move of a tag in `_tailor/history`. */
export interface TagMoveBody {
  /** The digest the tag pointed at before; null when the move created the tag. */
  readonly fromDigest: string | null;
  readonly toDigest: string;
  /** The build that moved it. */
  readonly buildId: string;
  /** When, as an RFC 3339 UTC timestamp. */
  readonly movedAt: string | null;
}

/** Body of `_tailor/history/<tag>`: every move of the tag, newest first. */
export interface TagHistoryBody {
  readonly name: string;
  readonly tag: string;
  readonly moves: readonly TagMoveBody[];
}

/** The `n` query parameter of tags/list. */
function pageSize(n: unknown): number {
  if (n === undefined || n === "") return MAX_TAGS_PER_PAGE;
  if (typeof n !== "string" || !/^\d{1,9}$/.test(n)) {
    throw new RegistryError(
      400,
      RegistryErrorCode.paginationNumberInvalid,
      `invalid page size n=${JSON.stringify(n)}: expected a non-negative integer`,
      { n },
    );
  }
  return Math.min(Number(n), MAX_TAGS_PER_PAGE);
}

/**
 * GET `/v2/<org>/<image>/tags/list?n=&last=`: tag names in byte order, `n`
 * at a time after `last`, with a `Link: <…>; rel="next"` header while more
 * remain (the distribution spec's paging).
 */
export function tagListRoute(deps: GatewayDependencies): PullRoute {
  return {
    methods: ["GET", "HEAD"],
    url: "/v2/:org/:image/tags/list",
    async serve(request, reply, params) {
      const query = request.query as { n?: unknown; last?: unknown };
      const { principal, repository } = await authorizePull(
        deps,
        request,
        params.org ?? "",
        params.image ?? "",
      );
      const limit = pageSize(query.n);
      const last = typeof query.last === "string" ? query.last : "";
      const listed = await deps.registry.listTags(
        { repository: repository.full },
        await serviceCall(deps, request),
      );
      requireVisibleOrg(principal, repository, listed.orgId);
      // Byte order, as the spec's "lexical order"; the database's collation may differ.
      const names = listed.tags
        .map((tag) => tag.name)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .filter((name) => name > last);
      const page = names.slice(0, limit);
      const lastOnPage = page.at(-1);
      if (limit > 0 && names.length > page.length && lastOnPage !== undefined) {
        const next = `/v2/${repository.full}/tags/list?n=${limit}&last=${encodeURIComponent(lastOnPage)}`;
        reply.header("link", `<${next}>; rel="next"`);
      }
      const body: TagListBody = { name: repository.full, tags: page };
      return reply.type("application/json; charset=utf-8").send(body);
    },
  };
}

/**
 * GET `/v2/<org>/<image>/_tailor/history/<tag>`: every move of one tag
 * (from which digest to which, by which build, when), newest first.
 */
export function tagHistoryRoute(deps: GatewayDependencies): PullRoute {
  return {
    methods: ["GET", "HEAD"],
    url: "/v2/:org/:image/_tailor/history/:tag",
    async serve(request, reply, params) {
      const { principal, repository } = await authorizePull(
        deps,
        request,
        params.org ?? "",
        params.image ?? "",
      );
      const tag = checkTag(params.tag ?? "");
      const call = await serviceCall(deps, request);
      // GetTagHistory does not name the owner; ListTags does, for the access check.
      const [listed, history] = await Promise.all([
        deps.registry.listTags({ repository: repository.full }, call),
        deps.registry.getTagHistory({ repository: repository.full, tag }, call),
      ]);
      requireVisibleOrg(principal, repository, listed.orgId);
      if (history.moves.length === 0) {
        throw new RegistryError(
          404,
          RegistryErrorCode.manifestUnknown,
          `tag ${tag} of ${repository.full} has no history: it was never set`,
          { name: repository.full, tag },
        );
      }
      const body: TagHistoryBody = {
        name: repository.full,
        tag,
        moves: history.moves.map((move) => ({
          fromDigest: move.fromDigest === "" ? null : move.fromDigest,
          toDigest: move.toDigest,
          buildId: move.buildId,
          movedAt: move.movedAt === undefined ? null : timestampDate(move.movedAt).toISOString(),
        })),
      };
      return reply.type("application/json; charset=utf-8").send(body);
    },
  };
}
