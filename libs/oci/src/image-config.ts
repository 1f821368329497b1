/** The OCI image configuration document (`application/vnd.oci.image.config.v1+json`). */
import type { Descriptor } from "./descriptor.js";
import { createDescriptor } from "./descriptor.js";
import { isSha256Digest } from "./digest.js";
import { encodeJson, sortedRecord } from "./encode-json.js";
import { InvalidDigestError, OciError } from "./errors.js";
import { MediaType } from "./media-type.js";
import { platformForApkArch } from "./platform.js";
import { formatOciTimestamp } from "./timestamp.js";

/** One entry of an image's history: how a layer (or an empty step) came about. */
export interface ImageHistoryInput {
  /** When the step ran (written with seconds precision). */
  created: Date;
  /** The command or tool that made it (`created_by`). */
  createdBy: string;
  /** Free-form note. */
  comment?: string;
  /** The step made no layer; such entries do not count against `diffIds`. @default false */
  emptyLayer?: boolean;
}

/** What an image configuration says. Everything optional is left out of the JSON when absent. */
export interface ImageConfigInput {
  /** APK architecture (`x86_64`, `aarch64`, …) or OCI name; see {@link platformForApkArch}. */
  arch: string;
  /** Image creation time (written with seconds precision, UTC). */
  created: Date;
  /** `Entrypoint`. */
  entrypoint?: string[];
  /** `Cmd`. */
  cmd?: string[];
  /** `Env` as `KEY=VALUE`, kept in the given order. */
  env?: string[];
  /** `User`: a name, `uid`, or `uid:gid`. */
  user?: string;
  /** `WorkingDir`. */
  workingDir?: string;
  /** `Labels`; written with sorted keys. */
  labels?: Record<string, string>;
  /** `StopSignal`, e.g. `SIGTERM`. */
  stopSignal?: string;
  /** The uncompressed digest of each layer, bottom first (`rootfs.diff_ids`). */
  diffIds: string[];
  /** `history`; its entries without `emptyLayer` must match `diffIds` one to one. */
  history?: ImageHistoryInput[];
}

/**
 * The image configuration as deterministic JSON and its descriptor. Field
 * order follows the image spec's Go types: created, architecture, os,
 * variant, config {User, Env, Entrypoint, Cmd, WorkingDir, Labels,
 * StopSignal}, rootfs {type: "layers", diff_ids}, history.
 * @throws UnknownArchitectureError, InvalidDigestError for a bad diff_id,
 *   OciError when history and layers disagree or a time is invalid.
 */
export function createImageConfig(input: ImageConfigInput): {
  bytes: Uint8Array;
  descriptor: Descriptor;
} {
  const platform = platformForApkArch(input.arch);
  for (const diffId of input.diffIds) {
    if (!isSha256Digest(diffId)) throw new InvalidDigestError(diffId);
  }
  const config: Record<string, unknown> = {};
  if (input.user !== undefined) config.User = input.user;
  if (input.env !== undefined) {
    for (const variable of input.env) {
      if (!variable.includes("=")) {
        throw new OciError(`environment entry "${variable}" is not KEY=VALUE`);
      }
    }
    config.Env = [...input.env];
  }
  if (input.entrypoint !== undefined) config.Entrypoint = [...input.entrypoint];
  if (input.cmd !== undefined) config.Cmd = [...input.cmd];
  if (input.workingDir !== undefined) config.WorkingDir = input.workingDir;
  if (input.labels !== undefined) config.Labels = sortedRecord(input.labels);
  if (input.stopSignal !== undefined) config.StopSignal = input.stopSignal;

  const document: Record<string, unknown> = {
    created: formatOciTimestamp(input.created, "created"),
    architecture: platform.architecture,
    os: platform.os,
  };
  if (platform.variant !== undefined) document.variant = platform.variant;
  document.config = config;
  document.rootfs = { type: "layers", diff_ids: [...input.diffIds] };
  if (input.history !== undefined) {
    const layers = input.history.filter((step) => step.emptyLayer !== true).length;
    if (layers !== input.diffIds.length) {
      throw new OciError(
        `history has ${layers} entries that make layers but rootfs has ${input.diffIds.length} diff_ids`,
      );
    }
    document.history = input.history.map((step, index) => {
      const entry: Record<string, unknown> = {
        created: formatOciTimestamp(step.created, `history[${index}].created`),
        created_by: step.createdBy,
      };
      if (step.comment !== undefined) entry.comment = step.comment;
      if (step.emptyLayer === true) entry.empty_layer = true;
      return entry;
    });
  }
  const bytes = encodeJson(document);
  return { bytes, descriptor: createDescriptor(MediaType.imageConfig, bytes) };
}
