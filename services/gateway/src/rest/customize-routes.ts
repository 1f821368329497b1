// Customizing an image: what an organization may add (the resolver's
// entitled packages, searchable), what a change would do (the resolver's
// preview), and applying it (a new revision in the catalog, then a build).
// Preview and apply take the same body; for a custom image that does not
// exist yet they start from the `sourceImage` the body names.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { requireOrgRole } from "@tailor/auth";
import { Code, TailorError } from "@tailor/grpc";
import type { catalogV1, resolverV1 } from "@tailor/proto";
import type { ApiContext, ApiRoute } from "./api-route.js";
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

/** Stores the proposal as the next revision (revision 1 of a new custom image). */
async function saveRevision(
  context: ApiContext,
  proposal: Proposal,
  body: ProposalBody,
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
      context.call,
    );
    return answered(customImage, "the custom image");
  }
  const { customImage } = await context.deps.catalog.updateCustomImage(
    {
      orgId: proposal.org.id,
      name: proposal.name,
      overlay: proposal.overlay,
      expectedRevision: body.expectedRevision ?? 0,
      comment,
    },
    context.call,
  );
  return answered(customImage, "the custom image");
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
      "Checks the proposed overlay with the resolver for every arch of the source image, stores it as the custom image's next revision (revision 1 of a new image) and requests a build of that revision. Refused with 409 when a package is not entitled, the packages cannot be resolved or two packages install the same file; nothing is stored then. Editors and owners.",
    tags: TAGS,
    params: { org: ORG_PARAM, image: IMAGE_PARAM },
    body: requestObject("The change.", {
      ...PROPOSAL_PROPERTIES,
      expectedRevision: {
        type: "integer",
        minimum: 1,
        description:
          "refuse (409) unless the latest revision is this one, so concurrent edits are not lost",
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
    async handler(context) {
      const body = (context.body ?? {}) as ProposalBody;
      const proposal = await proposalOf(context);
      const principal = answered(context.credential, "credentials").principal;
      // Refused before any resolving, so a viewer learns about its role, not the packages.
      requireOrgRole(principal, proposal.org.id, "editor", "apply customizations");
      for (const arch of await archsOf(context, proposal.sourceImage)) {
        refuseUnbuildable(proposal, arch, await previewOf(context, proposal, arch));
      }
      const saved = await saveRevision(context, proposal, body);
      let build: Awaited<ReturnType<typeof context.deps.builder.requestBuild>>["build"];
      try {
        ({ build } = await context.deps.builder.requestBuild(
          { orgId: proposal.org.id, customImage: proposal.name, revision: saved.revision },
          context.call,
        ));
      } catch (error) {
        const failed = TailorError.from(error);
        throw new TailorError(
          failed.code,
          `revision ${saved.revision} of "${proposal.name}" was saved, but its build could not be requested: ${failed.message}`,
          {
            ...(failed.reason === undefined ? {} : { reason: failed.reason }),
            metadata: { ...failed.metadata, revision: String(saved.revision) },
            cause: error,
          },
        );
      }
      return {
        customImage: customImageJson(saved),
        build: buildDetailJson(answered(build, "the build"), undefined),
      };
    },
  },
];
