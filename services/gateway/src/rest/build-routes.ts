import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, TailorError } from "@tailor/grpc";
import type { historyV1 } from "@tailor/proto";
import type { ApiContext, ApiRoute } from "./api-route.js";
import { ApiRequestError } from "./api-route.js";
import type { BuildStatusWord } from "./builds/build-json.js";
import {
  buildDetailJson,
  buildJsonFromHistory,
  historyStatusOf,
  logLineJson,
  tagMoveJson,
  versionJson,
} from "./builds/build-json.js";
import { sendBuildLogStream } from "./builds/build-log-stream.js";
import {
  buildDetailSchema,
  buildListSchema,
  buildLogSchema,
  buildLogStreamSchema,
  buildStatusSchema,
  tagHistorySchema,
  versionListSchema,
} from "./builds/build-schemas.js";
import { findOrganizationBuild } from "./builds/organization-build.js";
import type { OrganizationRef } from "./organization-ref.js";
import { organizationOf } from "./organization-ref.js";

const TAGS = ["builds"];
const ORG_PARAM = "Organization id or name.";
const BUILD_PARAM = "Build id.";
const IMAGE_PARAM = "Custom image name.";
const BUILDS = "/api/v1/organizations/{org}/builds";
const IMAGES = "/api/v1/organizations/{org}/custom-images";

const pageToken = {
  schema: { type: "string", maxLength: 1024 },
  description: "`nextPageToken` of the previous page.",
} as const;

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

/** `Last-Event-ID` (what an EventSource sends when it reconnects) or `after`: lines already seen. */
function resumeAfter(context: ApiContext): number {
  const header = context.request.headers["last-event-id"];
  const lastEventId = Array.isArray(header) ? header[0] : header;
  if (lastEventId !== undefined && lastEventId.trim() !== "") {
    const seq = Number(lastEventId.trim());
    if (!Number.isSafeInteger(seq) || seq < 0) {
      throw new ApiRequestError(
        400,
        "INVALID_ARGUMENT",
        `header "Last-Event-ID" must be a log line seq (a whole number), not ${JSON.stringify(lastEventId)}`,
        "Last-Event-ID",
      );
    }
    return seq;
  }
  return optionalNumber(context.query.after) ?? 0;
}

/** The custom image must exist in the organization (the catalog answers NOT_FOUND otherwise). */
async function requireCustomImage(
  context: ApiContext,
  org: OrganizationRef,
  image: string,
): Promise<void> {
  await context.deps.catalog.getCustomImage({ orgId: org.id, name: image }, context.call);
}

/** REST routes of builds, build logs, versions and tag history. */
export const buildRoutes: readonly ApiRoute[] = [
  {
    method: "GET",
    path: BUILDS,
    operationId: "listBuilds",
    summary: "List builds",
    description:
      "Builds of the organization, newest first; by default those queued within the last 24 hours.",
    tags: TAGS,
    params: { org: ORG_PARAM },
    query: {
      image: {
        schema: { type: "string", minLength: 1, maxLength: 253 },
        description: "Only builds of this custom image.",
      },
      status: { schema: buildStatusSchema, description: "Only builds with this status." },
      since: {
        schema: { type: "string", format: "date-time" },
        description: "Only builds queued at or after this time. Default: 24 hours ago.",
      },
      pageSize: {
        schema: { type: "integer", minimum: 1, maximum: 500 },
        description: "Builds per page (default 50).",
      },
      pageToken,
    },
    response: { description: "A page of builds.", schema: buildListSchema },
    async handler(context) {
      const org = await organizationOf(context);
      const { query } = context;
      const image = optionalString(query.image);
      const status = optionalString(query.status) as BuildStatusWord | undefined;
      const since = optionalString(query.since);
      const request: Parameters<typeof context.deps.history.listBuilds>[0] = {
        orgId: org.id,
        ...(image === undefined ? {} : { customImage: image }),
        ...(status === undefined ? {} : { status: historyStatusOf(status) }),
        ...(since === undefined ? {} : { since: timestampFromDate(new Date(since)) }),
        page: {
          size: optionalNumber(query.pageSize) ?? 0,
          token: optionalString(query.pageToken) ?? "",
        },
      };
      const answer = await context.deps.history.listBuilds(request, context.call);
      return {
        builds: answer.builds.map(buildJsonFromHistory),
        nextPageToken: optionalString(answer.page?.nextToken) ?? null,
      };
    },
  },
  {
    method: "GET",
    path: `${BUILDS}/{build}`,
    operationId: "getBuild",
    summary: "Get a build",
    description:
      "One build: status, trigger, timestamps, digests and tags pushed, the locked configuration (exact packages per variant and arch) and, when it failed, why.",
    tags: TAGS,
    params: { org: ORG_PARAM, build: BUILD_PARAM },
    response: { description: "The build.", schema: buildDetailSchema },
    async handler(context) {
      const org = await organizationOf(context);
      const build = await findOrganizationBuild(context, org, context.params.build ?? "");
      // The history adds what only it records (worker); it may not have heard of a new build yet.
      const recorded = await context.deps.history.getBuild({ id: build.id }, context.call).then(
        (answer): historyV1.Build | undefined => answer.build,
        (error: unknown) => {
          if (error instanceof TailorError && error.code === Code.NOT_FOUND) return undefined;
          throw error;
        },
      );
      return buildDetailJson(build, recorded);
    },
  },
  {
    method: "GET",
    path: `${BUILDS}/{build}/log`,
    operationId: "getBuildLog",
    summary: "Get a build's log",
    description:
      "A page of the build's stored log lines in order. While the build runs, the last page grows; use the live log to follow it.",
    tags: TAGS,
    params: { org: ORG_PARAM, build: BUILD_PARAM },
    query: {
      pageSize: {
        schema: { type: "integer", minimum: 1, maximum: 10000 },
        description: "Lines per page (default 1000).",
      },
      pageToken,
    },
    response: { description: "A page of log lines.", schema: buildLogSchema },
    async handler(context) {
      const org = await organizationOf(context);
      const build = await findOrganizationBuild(context, org, context.params.build ?? "");
      const request = {
        id: build.id,
        page: {
          size: optionalNumber(context.query.pageSize) ?? 0,
          token: optionalString(context.query.pageToken) ?? "",
        },
      };
      const answer = await context.deps.history
        .getBuildLog(request, context.call)
        .catch((error: unknown): historyV1.GetBuildLogResponse | undefined => {
          // A build the history has not heard of yet has logged nothing yet.
          if (error instanceof TailorError && error.code === Code.NOT_FOUND) return undefined;
          throw error;
        });
      return {
        buildId: build.id,
        lines: answer?.lines.map(logLineJson) ?? [],
        nextPageToken: optionalString(answer?.page?.nextToken) ?? null,
      };
    },
  },
  {
    method: "GET",
    path: `${BUILDS}/{build}/log/stream`,
    operationId: "streamBuildLog",
    summary: "Follow a build's log live",
    description:
      "Server-Sent Events: `line` events replay the stored lines, then follow new ones until the build ends; then one `end` event carries the finished build and the stream closes (close your EventSource on `end`). A `failure` event (data = an error body) reports a failure after the stream began; EventSource's own `error` is left to connection problems. The stream starts with a `retry:` hint for reconnecting. Reconnect with `Last-Event-ID` (or `after`) to resume after the last event's id; resuming a build that has ended after its last line answers 204, which stops an EventSource from reconnecting (read the finished build with GET …/builds/{build}).",
    tags: TAGS,
    params: { org: ORG_PARAM, build: BUILD_PARAM },
    query: {
      after: {
        schema: { type: "integer", minimum: 0 },
        description:
          "Skip lines up to this seq, e.g. the last event id seen (the `Last-Event-ID` header takes precedence).",
      },
    },
    response: {
      description: "The log as an event stream.",
      contentType: "text/event-stream",
      schema: buildLogStreamSchema,
    },
    otherResponses: {
      204: "The build has ended and the client resumed after its last line: nothing is left to stream (an EventSource stops reconnecting).",
    },
    async handler(context) {
      const org = await organizationOf(context);
      const after = resumeAfter(context);
      const build = await findOrganizationBuild(context, org, context.params.build ?? "");
      await sendBuildLogStream({
        deps: context.deps,
        request: context.request,
        reply: context.reply,
        build,
        metadata: { ...context.call.metadata },
        after,
      });
      return undefined;
    },
  },
  {
    method: "POST",
    path: `${BUILDS}/{build}/cancel`,
    operationId: "cancelBuild",
    summary: "Cancel a build",
    description:
      "Cancels a queued or running build (editor or owner). Cancelling a cancelled build answers it again; a build that already ended otherwise is 409.",
    tags: TAGS,
    params: { org: ORG_PARAM, build: BUILD_PARAM },
    response: { description: "The build after cancellation.", schema: buildDetailSchema },
    async handler(context) {
      const org = await organizationOf(context);
      const found = await findOrganizationBuild(context, org, context.params.build ?? "");
      const { build } = await context.deps.builder.cancelBuild({ buildId: found.id }, context.call);
      return buildDetailJson(build ?? found, undefined);
    },
  },
  {
    method: "POST",
    path: `${BUILDS}/{build}/rebuild`,
    operationId: "rebuildBuild",
    summary: "Rebuild",
    description:
      'Queues a new build of the same custom image revision (editor or owner), triggered "rebuild:<build id>". The builder skips it (status succeeded, upToDate) when the packages would be exactly those of the last successful build; `force: true` assembles the images regardless (the trigger is then "manual").',
    tags: TAGS,
    params: { org: ORG_PARAM, build: BUILD_PARAM },
    query: {
      force: {
        schema: { type: "boolean" },
        description:
          "Assemble the images even when nothing changed since the last successful build.",
      },
    },
    response: {
      status: 202,
      description: "The new build, queued.",
      schema: buildDetailSchema,
    },
    async handler(context) {
      const org = await organizationOf(context);
      const original = await findOrganizationBuild(context, org, context.params.build ?? "");
      const force = context.query.force === true;
      const { build } = await context.deps.builder.requestBuild(
        {
          orgId: org.id,
          customImage: original.customImage,
          revision: original.revision,
          trigger: force ? "manual" : `rebuild:${original.id}`,
        },
        context.call,
      );
      if (build === undefined) {
        throw new TailorError(Code.INTERNAL, "the builder answered RequestBuild without a build");
      }
      context.reply.header(
        "location",
        `/api/v1/organizations/${encodeURIComponent(context.params.org ?? "")}/builds/${build.id}`,
      );
      return buildDetailJson(build, undefined);
    },
  },
  {
    method: "GET",
    path: `${IMAGES}/{image}/versions`,
    operationId: "listCustomImageVersions",
    summary: "List versions of a custom image",
    description:
      "The custom image's tags and the digests each points to now, most recently moved first.",
    tags: TAGS,
    params: { org: ORG_PARAM, image: IMAGE_PARAM },
    response: { description: "The versions.", schema: versionListSchema },
    async handler(context) {
      const org = await organizationOf(context);
      const image = context.params.image ?? "";
      const [, answer] = await Promise.all([
        requireCustomImage(context, org, image),
        context.deps.history.listVersions({ orgId: org.id, customImage: image }, context.call),
      ]);
      return { customImage: image, versions: answer.versions.map(versionJson) };
    },
  },
  {
    method: "GET",
    path: `${IMAGES}/{image}/tags/{tag}/history`,
    operationId: "getTagHistory",
    summary: "Get the history of a tag",
    description: "Every time the tag was pointed at a build's images, newest first.",
    tags: TAGS,
    params: { org: ORG_PARAM, image: IMAGE_PARAM, tag: "The tag, e.g. `latest`." },
    response: { description: "The tag's moves.", schema: tagHistorySchema },
    async handler(context) {
      const org = await organizationOf(context);
      const image = context.params.image ?? "";
      const tag = context.params.tag ?? "";
      const [, answer] = await Promise.all([
        requireCustomImage(context, org, image),
        context.deps.history.tagHistory({ orgId: org.id, customImage: image, tag }, context.call),
      ]);
      if (answer.moves.length === 0) {
        throw new TailorError(
          Code.NOT_FOUND,
          `tag "${tag}" of custom image "${image}" has never been pushed`,
          { reason: "tag_not_found", field: "tag" },
        );
      }
      return { customImage: image, tag, moves: answer.moves.map(tagMoveJson) };
    },
  },
];
