import { isDeepStrictEqual } from "node:util";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Principal } from "@tailor/auth";
import { requireAdministrator, requireOrgRole } from "@tailor/auth";
import type { HandlerContext, ServiceImpl } from "@tailor/grpc";
import { Code, TailorError } from "@tailor/grpc";
import type { catalogV1 } from "@tailor/proto";
import type { CatalogDependencies } from "../catalog-dependencies.js";
import type { CustomImage, Overlay } from "../custom-images/custom-image.js";
import {
  CUSTOM_IMAGE_NAME_RULE,
  isOrganizationId,
  isValidCustomImageName,
  normalizeOverlay,
} from "../custom-images/custom-image.js";
import { findEndOfLifeOnly } from "../custom-images/end-of-life-only.js";
import {
  CustomImageExistsError,
  CustomImageNotFoundError,
  CustomizationNotAllowedError,
  OrganizationNotFoundError,
} from "../custom-images/errors.js";
import type { OverlayContext } from "../custom-images/overlay-validation.js";
import { assertValidOverlay } from "../custom-images/overlay-validation.js";
import type { EndOfLifeRules } from "../end-of-life/end-of-life-rule.js";
import { isEndOfLife } from "../end-of-life/end-of-life-rule.js";
import { enqueueCustomImageUpdated, enqueueSourceImageUpdated } from "../events/image-events.js";
import { SourceImageNotFoundError } from "../source-images/errors.js";
import { InvalidFieldsError } from "../source-images/field-problem.js";
import { chooseMainPackage, newestSupportedVersion } from "../source-images/main-package.js";
import { atomName, parseSourceImageYaml } from "../source-images/parse-source-image-yaml.js";
import type { SourceImage } from "../source-images/source-image.js";
import { isValidSourceImageName, SOURCE_IMAGE_NAME_RULE } from "../source-images/source-image.js";
import {
  appendRevision,
  customImageExists,
  findCustomImage,
  findCustomImageSource,
  insertCustomImage,
  listCustomImageRevisions,
  listCustomImages,
} from "../store/custom-image-store.js";
import { loadEndOfLifeRules } from "../store/end-of-life-store.js";
import { findPackages } from "../store/package-store.js";
import {
  findSourceImage,
  insertSourceImage,
  listSourceImages,
  lockSourceImage,
  updateSourceImage,
} from "../store/source-image-store.js";
import { withStatus } from "./to-status.js";

type CatalogImpl = ServiceImpl<typeof catalogV1.CatalogService>;

/** Handlers for source images and custom images. */
export type ImageHandlers = Pick<
  CatalogImpl,
  | "putSourceImage"
  | "getSourceImage"
  | "listSourceImages"
  | "createCustomImage"
  | "updateCustomImage"
  | "getCustomImage"
  | "listCustomImages"
  | "listCustomImageRevisions"
>;

/** gRPC handlers of the image half of tailor.catalog.v1.CatalogService. */
export function createImageHandlers(deps: CatalogDependencies): ImageHandlers {
  const { db } = deps;

  /** "Versions follow the source image's main package": its newest version no end-of-life rule covers. */
  async function mainPackageVersion(name: string, rules?: EndOfLifeRules): Promise<string> {
    const packages = await findPackages(db, { name });
    const inForce = rules ?? (await loadEndOfLifeRules(db));
    return newestSupportedVersion(
      packages.map((pkg) => pkg.version),
      (version) => isEndOfLife(inForce, name, version),
    );
  }

  async function requireSourceImage(name: string, field: string): Promise<SourceImage> {
    const image = await findSourceImage(db, name);
    if (image === undefined) throw new SourceImageNotFoundError(name, field);
    return image;
  }

  /** The entitlement service decides whether the organization may customize `sourceImage` at all. */
  async function requireCustomization(
    ctx: HandlerContext,
    orgId: string,
    sourceImage: string,
  ): Promise<void> {
    let organization: Awaited<ReturnType<typeof deps.entitlement.getOrganization>>["organization"];
    try {
      ({ organization } = await deps.entitlement.getOrganization(
        { id: orgId },
        {
          metadata: { ...deps.callerMetadata(ctx), "x-request-id": ctx.requestId },
          signal: ctx.signal,
        },
      ));
    } catch (error) {
      const status = TailorError.from(error);
      if (status.code === Code.NOT_FOUND) throw new OrganizationNotFoundError(orgId);
      throw new TailorError(
        status.code,
        `cannot check what organization "${orgId}" may customize: the entitlement service answered ${codeName(status.code)}: ${status.message}`,
        { reason: "entitlement_check_failed", cause: error },
      );
    }
    const label =
      organization?.name === undefined || organization.name === "" ? orgId : organization.name;
    if (organization === undefined || !organization.customAssemblyEnabled) {
      throw new CustomizationNotAllowedError(
        orgId,
        sourceImage,
        "custom_assembly_disabled",
        `organization "${label}" does not have custom assembly enabled; a platform administrator can enable it`,
      );
    }
    if (!organization.customizableSourceImages.includes(sourceImage)) {
      const allowed = organization.customizableSourceImages;
      throw new CustomizationNotAllowedError(
        orgId,
        sourceImage,
        "source_image_not_customizable",
        `organization "${label}" may not customize source image "${sourceImage}" (it may customize ${
          allowed.length === 0 ? "none" : allowed.map((name) => `"${name}"`).join(", ")
        })`,
      );
    }
  }

  /** What an overlay is validated against: the source image and the end-of-life rules of its packages. */
  async function overlayContext(source: SourceImage, overlay: Overlay): Promise<OverlayContext> {
    const rules = await loadEndOfLifeRules(db);
    const versions = new Map<string, string[]>();
    for (const name of new Set(overlay.packages.map(atomName))) {
      if (name !== undefined && rules.has(name)) {
        versions.set(
          name,
          (await findPackages(db, { name })).map((pkg) => pkg.version),
        );
      }
    }
    return {
      sourceImage: source.name,
      sourcePackages: source.definition.packages,
      sourceAccounts: source.definition.accounts,
      sourceKeyNames: source.definition.keyring.map((entry) => entry.split("/").pop() ?? entry),
      endOfLifeOnly: findEndOfLifeOnly(
        overlay.packages,
        (name) => rules.get(name),
        (name) => versions.get(name) ?? [],
      ),
    };
  }

  async function validatedOverlay(
    source: SourceImage,
    message: catalogV1.Overlay | undefined,
    imageName: string,
  ): Promise<Overlay> {
    const overlay = overlayFromMessage(message);
    assertValidOverlay(
      overlay,
      await overlayContext(source, overlay),
      `custom image "${imageName}"`,
    );
    return normalizeOverlay(overlay);
  }

  return {
    putSourceImage: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        requireAdministrator(principal, "define source images");
        const name = request.name.trim();
        if (!isValidSourceImageName(name)) {
          throw invalidField(
            "source image",
            "name",
            `"${request.name}" is not a valid source image name: ${SOURCE_IMAGE_NAME_RULE}`,
          );
        }
        const { definition, ignoredFields } = parseSourceImageYaml(
          request.yaml,
          `source image "${name}"`,
        );
        if (ignoredFields.length > 0) {
          ctx.logger.info(
            { sourceImage: name, ignoredFields },
            "source image YAML has apko fields Tailor does not use",
          );
        }
        const mainPackage = chooseMainPackage(name, definition.packages, request.mainPackage);
        const version = await mainPackageVersion(mainPackage);
        const write = { name, mainPackage, definition, yaml: request.yaml, at: deps.now() };
        const { image, changed } = await db.transaction().execute(async (trx) => {
          let current = await lockSourceImage(trx, name);
          if (current === undefined) {
            const created = await insertSourceImage(trx, write);
            if (created !== undefined) {
              await enqueueSourceImageUpdated(trx, created, version);
              return { image: created, changed: true };
            }
            // Created concurrently since we looked: lock it and treat this as an update.
            current = await lockSourceImage(trx, name);
            if (current === undefined)
              throw new Error(`source image "${name}" vanished while being created`);
          }
          // A definition equal in substance (comments, formatting, key order aside) is no change.
          if (
            current.mainPackage === mainPackage &&
            isDeepStrictEqual(current.definition, definition)
          ) {
            return { image: current, changed: false };
          }
          const updated = await updateSourceImage(trx, {
            ...write,
            generation: current.generation + 1,
          });
          await enqueueSourceImageUpdated(trx, updated, version);
          return { image: updated, changed: true };
        });
        if (changed) await deps.events.flushAfterCommit();
        return { sourceImage: sourceImageMessage(image, version), changed };
      }),

    getSourceImage: (request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        const image = await requireSourceImage(request.name.trim(), "name");
        return {
          sourceImage: sourceImageMessage(image, await mainPackageVersion(image.mainPackage)),
        };
      }),

    listSourceImages: (_request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        const images = await listSourceImages(db);
        const rules = await loadEndOfLifeRules(db);
        const sourceImages = [];
        for (const image of images) {
          sourceImages.push(
            sourceImageMessage(image, await mainPackageVersion(image.mainPackage, rules)),
          );
        }
        return { sourceImages };
      }),

    createCustomImage: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const orgId = requireOrganization(
          principal,
          request.orgId,
          "editor",
          "create custom images",
        );
        const name = request.name.trim();
        if (!isValidCustomImageName(name)) {
          throw invalidField(
            "custom image",
            "name",
            `"${request.name}" is not a valid custom image name: ${CUSTOM_IMAGE_NAME_RULE}`,
          );
        }
        const source = await requireSourceImage(request.sourceImage.trim(), "source_image");
        await requireCustomization(ctx, orgId, source.name);
        if (await customImageExists(db, orgId, name)) throw new CustomImageExistsError(orgId, name);
        const overlay = await validatedOverlay(source, request.overlay, name);
        const image = await db.transaction().execute(async (trx) => {
          const created = await insertCustomImage(trx, {
            orgId,
            name,
            sourceImage: source.name,
            overlay,
            author: authorOf(principal),
            comment: request.comment.trim(),
            at: deps.now(),
          });
          await enqueueCustomImageUpdated(trx, created);
          return created;
        });
        await deps.events.flushAfterCommit();
        return { customImage: customImageMessage(image) };
      }),

    updateCustomImage: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const orgId = requireOrganization(
          principal,
          request.orgId,
          "editor",
          "change custom images",
        );
        const name = request.name.trim();
        const sourceName = await findCustomImageSource(db, orgId, name);
        if (sourceName === undefined) throw new CustomImageNotFoundError(orgId, name);
        const source = await requireSourceImage(sourceName, "name");
        await requireCustomization(ctx, orgId, source.name);
        const overlay = await validatedOverlay(source, request.overlay, name);
        const image = await db.transaction().execute(async (trx) => {
          const revised = await appendRevision(trx, {
            orgId,
            name,
            overlay,
            author: authorOf(principal),
            comment: request.comment.trim(),
            at: deps.now(),
            expectedRevision: request.expectedRevision,
          });
          await enqueueCustomImageUpdated(trx, revised);
          return revised;
        });
        await deps.events.flushAfterCommit();
        return { customImage: customImageMessage(image) };
      }),

    getCustomImage: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const orgId = requireOrganization(principal, request.orgId, "viewer", "read custom images");
        const name = request.name.trim();
        const image = await findCustomImage(db, orgId, name, request.revision);
        if (image === undefined) {
          const exists = request.revision !== 0 && (await customImageExists(db, orgId, name));
          throw new CustomImageNotFoundError(orgId, name, exists ? request.revision : undefined);
        }
        return { customImage: customImageMessage(image) };
      }),

    listCustomImages: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const orgId = requireOrganization(principal, request.orgId, "viewer", "read custom images");
        return { customImages: (await listCustomImages(db, orgId)).map(customImageMessage) };
      }),

    listCustomImageRevisions: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const orgId = requireOrganization(principal, request.orgId, "viewer", "read custom images");
        const name = request.name.trim();
        const revisions = await listCustomImageRevisions(db, orgId, name);
        if (revisions.length === 0) throw new CustomImageNotFoundError(orgId, name);
        return { revisions: revisions.map(customImageMessage) };
      }),
  };
}

/**
 * The organization a request names, once the caller may act on it with
 * `minimum`: another organization's caller gets NOT_FOUND, a weak role
 * PERMISSION_DENIED, an administrator a malformed id INVALID_ARGUMENT.
 */
function requireOrganization(
  principal: Principal,
  orgIdText: string,
  minimum: "viewer" | "editor",
  action: string,
): string {
  const orgId = orgIdText.trim();
  requireOrgRole(principal, orgId, minimum, action);
  if (!isOrganizationId(orgId)) {
    throw invalidField("request", "org_id", `"${orgIdText}" is not an organization id (a UUID)`);
  }
  return orgId;
}

function codeName(code: Code): string {
  return Object.entries(Code).find(([, value]) => value === code)?.[0] ?? String(code);
}

function authorOf(principal: Principal): { name: string; subject: string } {
  return {
    name: principal.subjectName === "" ? principal.subject : principal.subjectName,
    subject: principal.subject,
  };
}

function invalidField(subject: string, field: string, message: string): InvalidFieldsError {
  return new InvalidFieldsError(subject, [{ field, message }]);
}

function overlayFromMessage(message: catalogV1.Overlay | undefined): Overlay {
  return {
    packages: [...(message?.packages ?? [])],
    environment: { ...message?.environment },
    annotations: { ...message?.annotations },
    accounts: {
      users: (message?.accounts?.users ?? []).map((user) => ({
        username: user.username,
        uid: user.uid,
        gid: user.gid,
        shell: user.shell,
        homeDir: user.homeDir,
      })),
      groups: (message?.accounts?.groups ?? []).map((group) => ({
        groupname: group.groupname,
        gid: group.gid,
        members: [...group.members],
      })),
      runAs: message?.accounts?.runAs ?? "",
    },
    certificates: (message?.certificates ?? []).map((c) => ({ name: c.name, pem: c.pem })),
    repositories: [...(message?.repositories ?? [])],
    keys: (message?.keys ?? []).map((k) => ({ name: k.name, pem: k.pem })),
  };
}

function accountsMessage(accounts: SourceImage["definition"]["accounts"]) {
  return {
    users: accounts.users.map((user) => ({ ...user })),
    groups: accounts.groups.map((group) => ({ ...group, members: [...group.members] })),
    runAs: accounts.runAs,
  };
}

function sourceImageMessage(image: SourceImage, version: string) {
  const definition = image.definition;
  return {
    name: image.name,
    mainPackage: image.mainPackage,
    version,
    packages: [...definition.packages],
    devPackages: [...definition.devPackages],
    repositories: [...definition.repositories],
    keyring: [...definition.keyring],
    accounts: accountsMessage(definition.accounts),
    entrypoint: [...definition.entrypoint],
    cmd: [...definition.cmd],
    workDir: definition.workDir,
    environment: { ...definition.environment },
    annotations: { ...definition.annotations },
    archs: [...definition.archs],
    yaml: image.yaml,
    updatedAt: timestampFromDate(image.updatedAt),
    generation: image.generation,
  };
}

function customImageMessage(image: CustomImage) {
  const overlay = image.overlay;
  return {
    orgId: image.orgId,
    name: image.name,
    sourceImage: image.sourceImage,
    revision: image.revision,
    overlay: {
      packages: [...overlay.packages],
      environment: { ...overlay.environment },
      annotations: { ...overlay.annotations },
      accounts: accountsMessage(overlay.accounts),
      certificates: overlay.certificates.map((c) => ({ ...c })),
      repositories: [...overlay.repositories],
      keys: overlay.keys.map((k) => ({ ...k })),
    },
    author: image.author.name,
    authorSubject: image.author.subject,
    createdAt: timestampFromDate(image.createdAt),
    imageCreatedAt: timestampFromDate(image.imageCreatedAt),
    comment: image.comment,
  };
}
