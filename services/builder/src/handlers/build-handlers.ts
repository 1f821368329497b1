import { requireOrgRole } from "@tailor/auth";
import type { ServiceImpl } from "@tailor/grpc";
import type { builderV1 } from "@tailor/proto";
import type { BuilderDependencies } from "../builder-dependencies.js";
import { MANUAL_TRIGGER } from "../builds/build.js";
import { isBuildId } from "../builds/build-id.js";
import { BuildFinishedError, BuildNotFoundError, InvalidFieldError } from "../builds/errors.js";
import { requestBuild } from "../builds/request-build.js";
import { enqueueBuildCancelled } from "../events/build-events.js";
import { cancelBuild, findBuild } from "../store/build-store.js";
import { buildMessage } from "./proto-conversions.js";
import { withStatus } from "./to-status.js";

type BuilderImpl = ServiceImpl<typeof builderV1.BuilderService>;

/** Handlers of build requests. */
export type BuildHandlers = Pick<BuilderImpl, "requestBuild" | "cancelBuild" | "getBuild">;

const triggerPattern = /^[a-z][a-z0-9-]*(:[\x21-\x7e]{1,200})?$/;

function requireBuildId(value: string): string {
  if (!isBuildId(value)) {
    throw new InvalidFieldError(
      "build_id",
      `build_id ${JSON.stringify(value)} is not a build id (a UUID)`,
    );
  }
  return value;
}

/** gRPC handlers of RequestBuild, CancelBuild and GetBuild. */
export function createBuildHandlers(deps: BuilderDependencies): BuildHandlers {
  async function visibleBuild(
    ctx: Parameters<BuilderImpl["getBuild"]>[1],
    buildId: string,
    minimum: "viewer" | "editor",
    action: string,
  ) {
    const principal = await deps.authenticate(ctx);
    const id = requireBuildId(buildId);
    const build = await findBuild(deps.db, id);
    // Another organization's build does not exist for the caller.
    if (build === undefined || !(principal.administrator || principal.orgId === build.orgId)) {
      throw new BuildNotFoundError(id);
    }
    requireOrgRole(principal, build.orgId, minimum, action);
    return build;
  }

  return {
    requestBuild: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        if (request.orgId === "") throw new InvalidFieldError("org_id", "org_id is required");
        if (request.customImage === "") {
          throw new InvalidFieldError("custom_image", "custom_image is required");
        }
        const trigger = request.trigger === "" ? MANUAL_TRIGGER : request.trigger;
        if (!triggerPattern.test(trigger)) {
          throw new InvalidFieldError(
            "trigger",
            `trigger ${JSON.stringify(trigger)} must look like "manual" or "package:<name>"`,
          );
        }
        requireOrgRole(principal, request.orgId, "editor", "request builds");
        const build = await requestBuild(
          deps,
          {
            orgId: request.orgId,
            customImage: request.customImage,
            revision: request.revision,
            trigger,
          },
          deps.callerMetadata(ctx),
        );
        deps.logger.info(
          { buildId: build.id, org: build.orgId, customImage: build.customImage, trigger },
          "build queued",
        );
        return { build: buildMessage(build) };
      }),

    cancelBuild: (request, ctx) =>
      withStatus(async () => {
        const build = await visibleBuild(ctx, request.buildId, "editor", "cancel builds");
        if (build.status === "cancelled") return { build: buildMessage(build) };
        const cancelled = await deps.db.transaction().execute(async (trx) => {
          const changed = await cancelBuild(trx, build.id, deps.now());
          if (changed !== undefined) await enqueueBuildCancelled(trx, changed);
          return changed;
        });
        if (cancelled === undefined) {
          const current = (await findBuild(deps.db, build.id)) ?? build;
          if (current.status === "cancelled") return { build: buildMessage(current) };
          throw new BuildFinishedError(build.id, current.status);
        }
        await deps.events.flushAfterCommit();
        return { build: buildMessage(cancelled) };
      }),

    getBuild: (request, ctx) =>
      withStatus(async () => {
        const build = await visibleBuild(ctx, request.buildId, "viewer", "read builds");
        return { build: buildMessage(build) };
      }),
  };
}
