// JSON Schemas of the build routes' answers, for the OpenAPI document. They
// mirror the interfaces of build-json.ts.
import type { JsonSchema } from "../api-route.js";
import { BUILD_STATUS_WORDS } from "./build-json.js";

const nullableTime: JsonSchema = { type: ["string", "null"], format: "date-time" };
const digests: JsonSchema = {
  type: "object",
  description:
    'Manifest or index digest per "variant" or "variant/arch" (e.g. "image/x86_64"), "provenance" for the SLSA statement when the builder recorded one.',
  additionalProperties: { type: "string" },
};

/** Schema of a build's status word. */
export const buildStatusSchema: JsonSchema = {
  type: "string",
  enum: [...BUILD_STATUS_WORDS],
  description: "Where the build is in its life.",
};

const buildProperties: Record<string, JsonSchema> = {
  id: { type: "string", description: "Build id (a time-ordered UUID)." },
  organizationId: { type: "string" },
  customImage: { type: "string", description: "Name of the custom image built." },
  revision: { type: "integer", description: "Revision of the custom image built." },
  trigger: {
    type: "string",
    description:
      'What asked for the build: "manual", "package:<name>=<version>", "rebuild:<build id>", …',
  },
  status: buildStatusSchema,
  upToDate: {
    type: "boolean",
    description: "True when the build found the closure unchanged and pushed nothing new.",
  },
  version: {
    type: ["string", "null"],
    description: "Version of the source image's main package, when known.",
  },
  digests,
  tags: { type: "array", items: { type: "string" }, description: "Tags pushed." },
  queuedAt: nullableTime,
  startedAt: nullableTime,
  finishedAt: nullableTime,
  durationMs: {
    type: ["integer", "null"],
    description: "Milliseconds from start to end; null until the build ends.",
  },
  worker: { type: ["string", "null"], description: "Worker that ran the build." },
  failure: {
    oneOf: [
      { type: "null" },
      {
        type: "object",
        required: ["reason", "message"],
        properties: {
          reason: {
            type: "string",
            description: 'Stable reason code, e.g. "resolve_failed", "file_conflict".',
          },
          message: { type: "string" },
        },
      },
    ],
    description: "Why the build failed; null unless it failed.",
  },
};

/** Schema of a build in listings. */
export const buildSchema: JsonSchema = {
  title: "Build",
  description: "A build, as listings show it.",
  type: "object",
  required: Object.keys(buildProperties),
  properties: buildProperties,
};

const lockedPackageSchema: JsonSchema = {
  title: "LockedPackage",
  description: "One package of a locked closure.",
  type: "object",
  required: ["name", "version", "arch", "repository", "checksum", "pinned"],
  properties: {
    name: { type: "string" },
    version: { type: "string" },
    arch: { type: "string" },
    repository: { type: "string" },
    checksum: { type: "string" },
    pinned: { type: "boolean", description: "True when the custom image pins this version." },
  },
};

const lockedConfigSchema: JsonSchema = {
  title: "LockedConfig",
  type: "object",
  description: "Everything the build was made from, so it can be repeated exactly.",
  required: [
    "sourceImage",
    "sourceImageGeneration",
    "sourceImageVersion",
    "revision",
    "sourceDateEpoch",
    "builderVersion",
    "variants",
  ],
  properties: {
    sourceImage: { type: "string" },
    sourceImageGeneration: { type: "integer" },
    sourceImageVersion: { type: "string" },
    revision: { type: "integer" },
    sourceDateEpoch: nullableTime,
    builderVersion: { type: "string" },
    variants: {
      type: "array",
      items: {
        type: "object",
        required: ["variant", "arch", "packages"],
        properties: {
          variant: { type: "string", description: '"image" or "dev".' },
          arch: { type: "string" },
          packages: { type: "array", items: lockedPackageSchema },
        },
      },
    },
  },
};

/** Schema of one build with everything known about it. */
export const buildDetailSchema: JsonSchema = {
  title: "BuildDetail",
  description: "One build with everything known about it.",
  type: "object",
  required: [...Object.keys(buildProperties), "attempts", "lockedConfig"],
  properties: {
    ...buildProperties,
    attempts: { type: "integer", description: "How many times a worker picked the build up." },
    lockedConfig: {
      oneOf: [{ type: "null" }, lockedConfigSchema],
      description: "Null until the build has resolved its packages.",
    },
  },
};

/** Schema of a page of builds. */
export const buildListSchema: JsonSchema = {
  title: "BuildList",
  description: "A page of builds.",
  type: "object",
  required: ["builds", "nextPageToken"],
  properties: {
    builds: { type: "array", items: buildSchema, description: "Newest first." },
    nextPageToken: {
      type: ["string", "null"],
      description: "Pass as `pageToken` for the next page; null on the last page.",
    },
  },
};

/** Schema of one log line. */
export const logLineSchema: JsonSchema = {
  title: "LogLine",
  description: "One line of a build's log.",
  type: "object",
  required: ["seq", "time", "level", "step", "text"],
  properties: {
    seq: { type: "integer", minimum: 1, description: "Position in the build's log, from 1." },
    time: nullableTime,
    level: { type: "string", description: 'e.g. "info", "warn", "error".' },
    step: { type: "string", description: 'Build step, e.g. "resolve".' },
    text: { type: "string" },
  },
};

/** Schema of a page of log lines. */
export const buildLogSchema: JsonSchema = {
  title: "BuildLogPage",
  description: "A page of a build's log.",
  type: "object",
  required: ["buildId", "lines", "nextPageToken"],
  properties: {
    buildId: { type: "string" },
    lines: { type: "array", items: logLineSchema, description: "In seq order." },
    nextPageToken: {
      type: ["string", "null"],
      description: "Pass as `pageToken` for the next page; null when no more lines are stored yet.",
    },
  },
};

/** Schema of the live log: the Server-Sent Events text. */
export const buildLogStreamSchema: JsonSchema = {
  type: "string",
  description:
    "Server-Sent Events. `line` events (data = a log line as in the paged log) replay the stored lines, then follow the live ones; one `end` event (data = the build) once the build has ended, then the stream closes. A line stored late may come after lines with a higher seq: order by `seq`. Event ids are resume points (every line up to that seq was sent): a reconnect with `Last-Event-ID` loses nothing but may repeat a line. A `failure` event (data = an error body) reports a failure after the stream began (not `error`, which EventSource keeps for connection problems). A `retry:` field at the start sets the reconnection delay; comment lines keep the connection alive.",
};

/** Schema of the versions of a custom image. */
export const versionListSchema: JsonSchema = {
  title: "ImageVersionList",
  description: "The tags of a custom image.",
  type: "object",
  required: ["customImage", "versions"],
  properties: {
    customImage: { type: "string" },
    versions: {
      type: "array",
      description: "The image's tags, most recently moved first.",
      items: {
        title: "ImageVersion",
        description: "A tag of a custom image and where it points now.",
        type: "object",
        required: ["tag", "digests", "buildId", "updatedAt"],
        properties: {
          tag: { type: "string" },
          digests,
          buildId: { type: "string", description: "Build that last moved the tag." },
          updatedAt: nullableTime,
        },
      },
    },
  },
};

/** Schema of the history of one tag. */
export const tagHistorySchema: JsonSchema = {
  title: "TagHistory",
  description: "Every move of one tag.",
  type: "object",
  required: ["customImage", "tag", "moves"],
  properties: {
    customImage: { type: "string" },
    tag: { type: "string" },
    moves: {
      type: "array",
      description: "Every time the tag was pointed at a build's images, newest first.",
      items: {
        title: "TagMove",
        description: "One time the tag was pointed at a build's images.",
        type: "object",
        required: ["digests", "buildId", "movedAt"],
        properties: { digests, buildId: { type: "string" }, movedAt: nullableTime },
      },
    },
  },
};
