// Customizing an image: what an organization may add (the resolver's
// entitled packages, searchable), what a change would do (the resolver's
// preview), and applying it (a new revision in the catalog, then a build).
// Preview and apply take the same body; for a custom image that does not
// exist yet they start from the `sourceImage` the body names.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { requireOrgRole } from "@tailor/auth";
import type { CallOptions } from "@tailor/grpc";
import { Code, TailorError } from "@tailor/grpc";
import type { builderV1, catalogV1, resolverV1 } from "@tailor/proto";
import { publicFailure } from "../http/errors.js";
import type { ApiContext, ApiRoute } from "./api-route.js";
import { ApiRequestError, apiPath } from "./api-route.js";
import { buildDetailJson } from "./builds/build-json.js";
import { buildDetailSchema } from "./builds/build-schemas.js";
import { IMAGE_PARAM } from "./images-routes.js";
import type { OrganizationRef } from "./organization-ref.js";
import { organizationOf } from "./organization-ref.js";
import { ORG_PARAM } from "./organizations-routes.js";
import type { OverlayInput } from "./representations.js";
import {
  arrayOf,
  CUSTOM_IMAGE_SCHEMA,
  customImageJson,
  ENTITLED_PACKAGE_SCHEMA,
  entitledPackageJson,
  mergedOverlay,
  OVERLAY_INPUT_SCHEMA,
  PREVIEW_SCHEMA,
  previewJson,
  requestObject,
  responseObject,
} from "./representations.js";
import { answered } from "./service-answer.js";

const TAGS = ["customize"];

/**
 * Arch of the entitled package list when the request names none.
 * @default "x86_64"
 */
export const DEFAULT_PACKAGE_ARCH = "x86_64";

/**
 * Most packages one listing answers; `total` tells how many matched.
 * @default 1000
 */
export const DEFAULT_PACKAGE_LIMIT = 1000;

const PROPOSAL_PROPERTIES = {
  sourceImage: {
    type: "string",
    minLength: 1,
    description:
      "for a custom image that does not exist yet: the source image it starts from (an existing image keeps its own)",
  },
  overlay: OVERLAY_INPUT_SCHEMA,
};

/** What a preview or apply body says. */
interface ProposalBody {
  readonly sourceImage?: string;
  readonly overlay?: OverlayInput;
  readonly arch?: string;
  readonly expectedRevision?: number;
  readonly comment?: string;
}

/** A proposed change of one custom image, ready for the resolver and the catalog. */
interface Proposal {
  readonly org: OrganizationRef;
  readonly name: string;
  /** The latest revision; undefined for a new custom image. */
  readonly current: catalogV1.CustomImage | undefined;
  readonly sourceImage: string;
  readonly overlay: MessageInitShape<typeof catalogV1.OverlaySchema>;
}

async function latestRevision(
  context: ApiContext,
  org: OrganizationRef,
  name: string,
): Promise<catalogV1.CustomImage | undefined> {
  try {
    const { customImage } = await context.deps.catalog.getCustomImage(
      { orgId: org.id, name },
      context.call,
    );
    return customImage;
  } catch (error) {
    if (error instanceof TailorError && error.code === Code.NOT_FOUND) return undefined;
    throw error;
  }
}

/** The change a preview or apply request proposes: the current overlay with the body's keys replaced. */
async function proposalOf(context: ApiContext): Promise<Proposal> {
  const body = (context.body ?? {}) as ProposalBody;
  const org = await organizationOf(context);
  const name = context.params.image ?? "";
  const current = await latestRevision(context, org, name);
  if (
    current !== undefined &&
    body.sourceImage !== undefined &&
    body.sourceImage !== current.sourceImage
  ) {
    throw new TailorError(
      Code.FAILED_PRECONDITION,
      `custom image "${name}" customizes source image "${current.sourceImage}"; its source image cannot change to "${body.sourceImage}"`,
      { reason: "source_image_fixed", field: "sourceImage" },
    );
  }
  const sourceImage = current?.sourceImage ?? body.sourceImage;
  if (sourceImage === undefined) {
    throw new TailorError(
      Code.NOT_FOUND,
      `custom image "${name}" not found in organization "${org.name}"; to start a new one, give the sourceImage it customizes`,
      { reason: "custom_image_not_found", field: "image" },
    );
  }
  return {
    org,
    name,
    current,
    sourceImage,
    overlay: mergedOverlay(current?.overlay, body.overlay),
  };
}

/** The arches a source image is built for. */
async function archsOf(context: ApiContext, sourceImage: string): Promise<readonly string[]> {
  try {
    const { sourceImage: image } = await context.deps.catalog.getSourceImage(
      { name: sourceImage },
      context.call,
    );
    const archs = image?.archs ?? [];
    return archs.length === 0 ? [DEFAULT_PACKAGE_ARCH] : archs;
  } catch (error) {
    if (error instanceof TailorError && error.code === Code.NOT_FOUND) {
      throw new TailorError(Code.NOT_FOUND, `source image "${sourceImage}" not found`, {
        reason: "source_image_not_found",
        field: "sourceImage",
        cause: error,
      });
    }
    throw error;
  }
}

function previewOf(
  context: ApiContext,
  proposal: Proposal,
  arch: string,
): Promise<resolverV1.PreviewResponse> {
  return context.deps.resolver.preview(
    {
      orgId: proposal.org.id,
      customImage: proposal.current === undefined ? "" : proposal.name,
      sourceImage: proposal.sourceImage,
      arch,
      overlay: proposal.overlay,
    },
    context.call,
  );
}

/** Where `packageName` is in the proposed overlay's packages, as a body field. */
function packageField(proposal: Proposal, packageName: string): string | undefined {
  const index = (proposal.overlay.packages ?? []).findIndex(
    (atom) => atom === packageName || atom.split(/[<>=~]/, 1)[0] === packageName,
  );
  return index < 0 ? undefined : `overlay.packages[${index}]`;
}

/**
 * Refuses a change the resolver says cannot be built: packages the
 * organization is not entitled to, an unsatisfiable closure, or files that
 * two packages install (the build would fail on each).
 */
function refuseUnbuildable(
  proposal: Proposal,
  arch: string,
  preview: resolverV1.PreviewResponse,
): void {
  const failure = preview.failure;
  if (!preview.ok && failure !== undefined && failure.notEntitled.length > 0) {
    const names = failure.notEntitled;
    const field = packageField(proposal, names[0] ?? "");
    throw new TailorError(
      Code.FAILED_PRECONDITION,
      `organization "${proposal.org.name}" is not entitled to ${names.map((name) => `"${name}"`).join(", ")}; nothing was applied`,
      {
        reason: "not_entitled",
        ...(field === undefined ? {} : { field }),
        metadata: { packages: names.join(","), arch },
      },
    );
  }
  if (!preview.ok) {
    const problem = failure?.problems[0];
    const field = problem === undefined ? undefined : packageField(proposal, problem.package);
    throw new TailorError(
      Code.FAILED_PRECONDITION,
      `the packages cannot be installed together on ${arch}; nothing was applied:\n${failure?.text ?? "the resolver found no solution"}`,
      {
        reason: "resolve_failed",
        ...(field === undefined ? {} : { field }),
        metadata: { arch, ...(problem === undefined ? {} : { package: problem.package }) },
      },
    );
  }
  const conflict = preview.fileConflicts[0];
  if (conflict !== undefined) {
    throw new TailorError(
      Code.FAILED_PRECONDITION,
      `"/${conflict.path}" would be installed by ${conflict.packages.join(" and ")} on ${arch}; nothing was applied`,
      {
        reason: "file_conflict",
        metadata: { path: conflict.path, packages: conflict.packages.join(","), arch },
      },
    );
  }
}

/**
 * Refuses an `expectedRevision` that cannot match before anything is
 * resolved: a custom image that does not exist yet has no revision, and an
 * existing one must still be at that revision (the catalog checks it again
 * when storing, so an edit that lands in between is refused too).
 */
function refuseStaleRevision(proposal: Proposal, body: ProposalBody): void {
  const expected = body.expectedRevision;
  if (expected === undefined) return;
  const latest = proposal.current?.revision ?? 0;
  if (latest === expected) return;
  throw new TailorError(
    Code.ABORTED,
    proposal.current === undefined
      ? `custom image "${proposal.name}" does not exist yet, so it has no revision ${expected}; leave expectedRevision out to create it`
      : `custom image "${proposal.name}" is at revision ${latest}, not ${expected}; read it again and reapply your change`,
    {
      reason: "revision_conflict",
      field: "expectedRevision",
      metadata: { expected_revision: String(expected), latest_revision: String(latest) },
    },
  );
}

/**
 * `call` without its cancellation. Once the revision is being stored, a
 * client that goes away must not cut storing it and requesting its build
 * apart: both run to the end.
 */
function uncancellable(call: CallOptions): CallOptions {
  const { signal: _ignored, ...rest } = call;
  return rest;
}

/**
 * Stores the proposal as the next revision (revision 1 of a new custom
 * image). An existing image is updated only if it is still at the revision
 * the proposal was merged onto, so a concurrent edit is never overwritten
 * (the catalog answers ABORTED, a 409).
 */
async function saveRevision(
  context: ApiContext,
  proposal: Proposal,
  body: ProposalBody,
  call: CallOptions,
): Promise<catalogV1.CustomImage> {
  const comment = body.comment ?? "";
  if (proposal.current === undefined) {
    const { customImage } = await context.deps.catalog.createCustomImage(
      {
        orgId: proposal.org.id,
        name: proposal.name,
        sourceImage: proposal.sourceImage,
        overlay: proposal.overlay,
        comment,
      },
      call,
    );
    return answered(customImage, "the custom image");
  }
  const { customImage } = await context.deps.catalog.updateCustomImage(
    {
      orgId: proposal.org.id,
      name: proposal.name,
      overlay: proposal.overlay,
      expectedRevision: body.expectedRevision ?? proposal.current.revision,
      comment,
    },
    call,
  );
  return answered(customImage, "the custom image");
}

/** HTTP status of an apply whose revision was stored but whose build could not be requested. */
export const BUILD_NOT_REQUESTED_STATUS = 502;

/**
 * The answer when RequestBuild failed after `saved` was stored: always 502
 * BUILD_NOT_REQUESTED, whatever the builder's failure, so a client can tell
 * that the revision exists and nothing is building it. The builder's own
 * message is included when it is one a client may see.
 */
function buildNotRequested(
  saved: catalogV1.CustomImage,
  name: string,
  error: unknown,
): ApiRequestError {
  const failure = publicFailure(TailorError.from(error));
  return new ApiRequestError(
    BUILD_NOT_REQUESTED_STATUS,
    "BUILD_NOT_REQUESTED",
    `revision ${saved.revision} of custom image "${name}" was saved, but no build was started (${failure.message}); apply again with expectedRevision ${saved.revision} to build it`,
    undefined,
    {
      reason: "build_not_requested",
      details: {
        revision: String(saved.revision),
        customImage: name,
        cause: failure.code,
      },
    },
  );
}

/** REST routes of customization: entitled packages, preview and apply. */
export const customizeRoutes: readonly ApiRoute[] = [
  {
    method: "GET",
    path: "/api/v1/organizations/{org}/packages",
    operationId: "listEntitledPackages",
    summary: "List the packages the organization may add",
    description:
      "The closures of its purchased source images plus its explicit grants, with the supported versions of each, by name.",
    tags: TAGS,
    params: { org: ORG_PARAM },
    query: {
      arch: {
        schema: { type: "string", minLength: 1, maxLength: 64 },
        description: `architecture (default ${DEFAULT_PACKAGE_ARCH})`,
      },
      q: {
        schema: { type: "string", maxLength: 256 },
        description:
          "search: names containing it (case-insensitive), names starting with it listed first",
      },
      limit: {
        schema: { type: "integer", minimum: 1, maximum: 10_000 },
        description: `most packages to answer (default ${DEFAULT_PACKAGE_LIMIT})`,
      },
    },
    response: {
      description: "The matching packages.",
      schema: responseObject("EntitledPackageList", "Packages an organization may add.", {
        arch: { type: "string" },
        total: { type: "integer", description: "how many packages matched (before limit)" },
        packages: arrayOf(ENTITLED_PACKAGE_SCHEMA),
      }),
    },
    otherResponses: {
      409: "The organization has no packages for the requested arch (`error.field` is `arch`).",
    },
    async handler(context) {
      const org = await organizationOf(context);
      const arch =
        typeof context.query.arch === "string" ? context.query.arch : DEFAULT_PACKAGE_ARCH;
      const q = typeof context.query.q === "string" ? context.query.q.trim().toLowerCase() : "";
      const limit =
        typeof context.query.limit === "number" ? context.query.limit : DEFAULT_PACKAGE_LIMIT;
      const { packages } = await context.deps.resolver.entitledPackages(
        { orgId: org.id, arch, prefix: "" },
        context.call,
      );
      const matches = packages.filter((entitled) => entitled.name.toLowerCase().includes(q));
      const starts = matches.filter((entitled) => entitled.name.toLowerCase().startsWith(q));
      const contains = matches.filter((entitled) => !entitled.name.toLowerCase().startsWith(q));
      return {
        arch,
        total: matches.length,
        packages: [...starts, ...contains].slice(0, limit).map(entitledPackageJson),
      };
    },
  },
  {
    method: "POST",
    path: "/api/v1/organizations/{org}/custom-images/{image}/preview",
    operationId: "previewCustomization",
    summary: "Preview a change of a custom image",
    description:
      "What the proposed overlay would change in the image's closure compared with its latest revision: packages added, removed and changed, the size delta, file conflicts, and why it cannot be resolved (packages the organization is not entitled to, conflicts). Saves nothing. Any member may preview.",
    tags: TAGS,
    params: { org: ORG_PARAM, image: IMAGE_PARAM },
    body: requestObject("The proposed change.", {
      ...PROPOSAL_PROPERTIES,
      arch: {
        type: "string",
        minLength: 1,
        maxLength: 64,
        description: "architecture to resolve for (default: the source image's first)",
      },
    }),
    response: { description: "What the change would do.", schema: PREVIEW_SCHEMA },
    async handler(context) {
      const body = (context.body ?? {}) as ProposalBody;
      const proposal = await proposalOf(context);
      const arch = body.arch ?? (await archsOf(context, proposal.sourceImage))[0] ?? "";
      const preview = await previewOf(context, proposal, arch);
      return previewJson(preview, {
        sourceImage: proposal.sourceImage,
        arch,
        baselineRevision: proposal.current?.revision ?? null,
      });
    },
  },
  {
    method: "POST",
    path: "/api/v1/organizations/{org}/custom-images/{image}/apply",
    operationId: "applyCustomization",
    summary: "Apply a change and build it",
    description:
      "Checks the proposed overlay with the resolver for every arch of the source image, stores it as the custom image's next revision (revision 1 of a new image) and requests a build of that revision. The body's keys replace those of the latest revision; the revision is stored only if no other change landed since that revision was read (409 `revision_conflict` otherwise, nothing stored). Refused with 409 when a package is not entitled, the packages cannot be resolved or two packages install the same file; nothing is stored then. When the revision was stored but its build could not be requested the answer is 502 `BUILD_NOT_REQUESTED` (reason `build_not_requested`, `details.revision` the stored revision). Once storing has begun, a client that disconnects does not stop it or the build request. Editors and owners.",
    tags: TAGS,
    params: { org: ORG_PARAM, image: IMAGE_PARAM },
    body: requestObject("The change.", {
      ...PROPOSAL_PROPERTIES,
      expectedRevision: {
        type: "integer",
        minimum: 1,
        description:
          "refuse (409) unless the latest revision is this one, e.g. the revision the change was made on; a custom image that does not exist yet has none (409). Without it the change applies to the latest revision as read by this request, still refused if another change lands before it is stored",
      },
      comment: { type: "string", maxLength: 1000, description: "why the change was made" },
    }),
    response: {
      status: 202,
      description: "The new revision and its queued build.",
      schema: responseObject("AppliedCustomization", "A stored revision and its build.", {
        customImage: CUSTOM_IMAGE_SCHEMA,
        build: buildDetailSchema,
      }),
    },
    otherResponses: {
      409: "Nothing was stored: a package is not entitled (`not_entitled`), the packages cannot be resolved (`resolve_failed`), two packages install one file (`file_conflict`), or the image changed since the revision the change was made on (`revision_conflict`).",
      [BUILD_NOT_REQUESTED_STATUS]:
        "The revision was stored (`error.details.revision`) but its build could not be requested (`BUILD_NOT_REQUESTED`, reason `build_not_requested`): nothing is building it.",
    },
    async handler(context) {
      const body = (context.body ?? {}) as ProposalBody;
      const proposal = await proposalOf(context);
      const principal = answered(context.credential, "credentials").principal;
      // Refused before any resolving, so a viewer learns about its role, not the packages.
      requireOrgRole(principal, proposal.org.id, "editor", "apply customizations");
      refuseStaleRevision(proposal, body);
      for (const arch of await archsOf(context, proposal.sourceImage)) {
        refuseUnbuildable(proposal, arch, await previewOf(context, proposal, arch));
      }
      const call = uncancellable(context.call);
      const saved = await saveRevision(context, proposal, body, call);
      let queued: builderV1.Build;
      try {
        const { build } = await context.deps.builder.requestBuild(
          { orgId: proposal.org.id, customImage: proposal.name, revision: saved.revision },
          call,
        );
        queued = answered(build, "the build");
      } catch (error) {
        context.request.log.warn(
          { err: error, customImage: proposal.name, revision: saved.revision },
          "a revision was saved but its build could not be requested",
        );
        throw buildNotRequested(saved, proposal.name, error);
      }
      context.reply.header(
        "location",
        apiPath("organizations", proposal.org.name, "builds", queued.id),
      );
      return { customImage: customImageJson(saved), build: buildDetailJson(queued, undefined) };
    },
  },
];
