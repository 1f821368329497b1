import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { compareVersions } from "@tailor/apk";
import type { Principal } from "@tailor/auth";
import { requireOrgRole } from "@tailor/auth";
import type { HandlerContext, ServiceImpl } from "@tailor/grpc";
import type { resolverV1 } from "@tailor/proto";
import { serviceInfo } from "@tailor/service";
import type { SolvedPackage } from "@tailor/solver";
import { parseAddedPackages } from "../resolution/added-packages.js";
import { diffClosures } from "../resolution/closure-diff.js";
import type {
  ClosureFailure,
  ClosureOutcome,
  OrganizationEntitlements,
  SourceImageDefinition,
} from "../resolution/closure-planner.js";
import {
  entitledNames,
  resolveClosure,
  resolveSourceImage,
} from "../resolution/closure-planner.js";
import {
  ArchNotAvailableError,
  InvalidFieldError,
  SourceImageNotEntitledError,
  UniverseNotReadyError,
} from "../resolution/errors.js";
import { findFileConflicts } from "../resolution/file-conflicts.js";
import type { ResolverDependencies } from "../resolver-dependencies.js";
import { SourceImageNotFoundError } from "../source-images/source-image-cache.js";
import type { ArchSnapshot } from "../universe/package-universe.js";
import { withStatus } from "./to-status.js";

type ResolverImpl = ServiceImpl<typeof resolverV1.ResolverService>;

function required(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed === "") throw new InvalidFieldError(field, `${field} is required`);
  return trimmed;
}

function resolvedPackage(
  pkg: SolvedPackage,
): MessageInitShape<typeof resolverV1.ResolvedPackageSchema> {
  return {
    name: pkg.name,
    version: pkg.version,
    arch: pkg.arch,
    repository: pkg.repository,
    checksum: pkg.checksum,
    size: BigInt(pkg.size),
    installedSize: BigInt(pkg.installedSize),
    pinned: pkg.pinned,
    origin: pkg.origin ?? "",
  };
}

function failureMessage(
  failure: ClosureFailure,
): MessageInitShape<typeof resolverV1.ResolveFailureSchema> {
  return {
    text: failure.text,
    problems: failure.problems.map((problem) => ({
      package: problem.package,
      kind: problem.kind,
      lines: [...problem.lines],
    })),
    notEntitled: [...failure.notEntitled],
  };
}

/** gRPC handlers of tailor.resolver.v1.ResolverService. */
export function createResolverHandlers(deps: ResolverDependencies): ResolverImpl {
  function snapshotOf(arch: string): ArchSnapshot {
    if (!deps.universe.ready) throw new UniverseNotReadyError();
    const snapshot = deps.universe.snapshot(arch);
    if (snapshot === undefined) throw new ArchNotAvailableError(arch, deps.universe.arches());
    return snapshot;
  }

  /** The caller, checked to be a member (viewer or above) of `orgId` or an administrator. */
  async function member(ctx: HandlerContext, orgId: string, action: string): Promise<Principal> {
    const principal = await deps.authenticate(ctx);
    requireOrgRole(principal, orgId, "viewer", action);
    return principal;
  }

  /** What the organization bought and was granted, asked with the caller's own token. */
  async function entitlementsOf(
    ctx: HandlerContext,
    orgId: string,
  ): Promise<OrganizationEntitlements> {
    const response = await deps.entitlement.getEntitlements(
      { orgId },
      { metadata: deps.callerMetadata(ctx), signal: ctx.signal },
    );
    const purchased: SourceImageDefinition[] = [];
    for (const purchase of response.purchases) {
      try {
        purchased.push(await deps.sourceImages.get(purchase.sourceImage, "org_id"));
      } catch (error) {
        // A purchase of an image the catalog no longer defines entitles nothing.
        if (!(error instanceof SourceImageNotFoundError)) throw error;
      }
    }
    return {
      orgId,
      orgName: response.organization?.name ?? orgId,
      purchased,
      grantedPackages: response.packageGrants.map((grant) => grant.packageName),
      usableSourceImages: new Set([
        ...response.purchases.map((purchase) => purchase.sourceImage),
        ...(response.organization?.customAssemblyEnabled
          ? response.organization.customizableSourceImages
          : []),
      ]),
    };
  }

  /**
   * A closure is only computed for a source image the organization bought or
   * may customize: its packages are pinned without an entitlement check, so
   * this is what keeps other images' packages out of reach.
   */
  function requireUsable(entitlements: OrganizationEntitlements, sourceImage: string): void {
    if (!entitlements.usableSourceImages.has(sourceImage)) {
      throw new SourceImageNotEntitledError(sourceImage, entitlements.orgName);
    }
  }

  function timed<T>(rpc: string, work: () => T): T {
    const stop = deps.metrics.resolveSeconds.startTimer({ rpc });
    try {
      return work();
    } finally {
      stop();
    }
  }

  return {
    getServiceInfo: () => ({ info: serviceInfo("resolver") }),

    resolve: (request, ctx) =>
      withStatus(async () => {
        const orgId = required(request.orgId, "org_id");
        await member(ctx, orgId, "resolve images");
        const name = required(request.sourceImage, "source_image");
        const arch = required(request.arch, "arch");
        const added = parseAddedPackages(request.packages, "packages");
        const snapshot = snapshotOf(arch);
        const [image, entitlements] = await Promise.all([
          deps.sourceImages.get(name, "source_image"),
          entitlementsOf(ctx, orgId),
        ]);
        requireUsable(entitlements, name);
        const outcome = timed("resolve", () =>
          resolveClosure(snapshot, {
            image,
            devVariant: request.devVariant,
            added,
            entitlements,
          }),
        );
        if (!outcome.ok) return { ok: false, failure: failureMessage(outcome.failure) };
        return {
          ok: true,
          packages: outcome.packages.map(resolvedPackage),
          installedSize: BigInt(outcome.installedSize),
          sourceImageVersion: outcome.sourceImageVersion,
        };
      }),

    entitledPackages: (request, ctx) =>
      withStatus(async () => {
        const orgId = required(request.orgId, "org_id");
        await member(ctx, orgId, "list entitled packages");
        const snapshot = snapshotOf(required(request.arch, "arch"));
        const entitlements = await entitlementsOf(ctx, orgId);
        const prefix = request.prefix.trim();
        return timed("entitled_packages", () => {
          const names = entitledNames(snapshot, entitlements);
          const packages: MessageInitShape<typeof resolverV1.EntitledPackageSchema>[] = [];
          for (const [name, sources] of [...names].sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          )) {
            if (!name.startsWith(prefix)) continue;
            const supported = (snapshot.byName.get(name) ?? []).filter((known) => !known.endOfLife);
            if (supported.length === 0) continue;
            supported.sort((a, b) => compareVersions(b.pkg.version, a.pkg.version));
            const versions = [...new Set(supported.map((known) => known.pkg.version))];
            packages.push({
              name,
              versions,
              sources: [...sources],
              description: supported[0]?.description ?? "",
            });
          }
          return { packages };
        });
      }),

    preview: (request, ctx) =>
      withStatus(async () => {
        const orgId = required(request.orgId, "org_id");
        await member(ctx, orgId, "preview custom images");
        const arch = required(request.arch, "arch");
        const proposedAdded = parseAddedPackages(
          request.overlay?.packages ?? [],
          "overlay.packages",
        );
        const snapshot = snapshotOf(arch);
        let sourceImage: string;
        let baselineAdded: readonly string[] = [];
        const customName = request.customImage.trim();
        if (customName !== "") {
          const { customImage } = await deps.catalog.getCustomImage(
            { orgId, name: customName },
            { metadata: deps.callerMetadata(ctx), signal: ctx.signal },
          );
          sourceImage = customImage?.sourceImage ?? "";
          baselineAdded = customImage?.overlay?.packages ?? [];
        } else {
          sourceImage = required(request.sourceImage, "source_image");
        }
        const [image, entitlements] = await Promise.all([
          deps.sourceImages.get(sourceImage, customName === "" ? "source_image" : "custom_image"),
          entitlementsOf(ctx, orgId),
        ]);
        requireUsable(entitlements, sourceImage);
        const closureOf = (added: readonly string[]): ClosureOutcome =>
          resolveClosure(snapshot, { image, devVariant: false, added, entitlements });
        const { baseline, proposed } = timed("preview", () => {
          let before = closureOf(baselineAdded);
          if (!before.ok) {
            // The saved revision no longer resolves (e.g. a grant was revoked): compare with the image itself.
            const base = resolveSourceImage(snapshot, image, false);
            before = base.ok
              ? {
                  ok: true,
                  packages: base.packages,
                  installedSize: base.installedSize,
                  sourceImageVersion: "",
                }
              : before;
          }
          return { baseline: before, proposed: closureOf(proposedAdded) };
        });
        if (!proposed.ok) return { ok: false, failure: failureMessage(proposed.failure) };
        const diff = diffClosures(baseline.ok ? baseline.packages : [], proposed.packages);
        const files = await deps.packageFiles.filesOf(proposed.packages, {
          metadata: await deps.serviceMetadata(),
          signal: ctx.signal,
        });
        const conflicts = findFileConflicts(
          proposed.packages.map((pkg, index) => ({
            name: pkg.name,
            version: pkg.version,
            ...(pkg.origin === undefined ? {} : { origin: pkg.origin }),
            ...(pkg.replaces === undefined ? {} : { replaces: pkg.replaces }),
            files: files[index],
          })),
        );
        return {
          ok: true,
          added: diff.added.map(changeMessage),
          removed: diff.removed.map(changeMessage),
          changed: diff.changed.map(changeMessage),
          installedSizeDelta: BigInt(diff.installedSizeDelta),
          fileConflicts: conflicts,
          installedSize: BigInt(proposed.installedSize),
        };
      }),

    getUniverseStatus: (_request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        return {
          ready: deps.universe.ready,
          arches: deps.universe.arches().flatMap((arch) => {
            const snapshot = deps.universe.snapshot(arch);
            return snapshot === undefined
              ? []
              : [
                  {
                    arch,
                    packageCount: snapshot.packageCount,
                    updatedAt: timestampFromDate(snapshot.updatedAt),
                  },
                ];
          }),
        };
      }),
  };
}

function changeMessage(change: {
  name: string;
  oldVersion: string;
  newVersion: string;
  installedSizeDelta: number;
}): MessageInitShape<typeof resolverV1.PackageChangeSchema> {
  return { ...change, installedSizeDelta: BigInt(change.installedSizeDelta) };
}
