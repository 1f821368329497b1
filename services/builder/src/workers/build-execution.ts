import { createHash } from "node:crypto";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type {
  AssembleDependencies,
  AssembledImage,
  AssembleInput,
  BlobSink,
  LayerCache,
  PackageSource,
} from "@tailor/assembly";
import {
  FileConflictError,
  InvalidAssemblyInputError,
  LayerBudgetError,
  PackageRejectedError,
} from "@tailor/assembly";
import { Code, TailorError } from "@tailor/grpc";
import type { Logger } from "@tailor/log";
import { createImageIndex, MediaType, platformForApkArch } from "@tailor/oci";
import type { catalogV1, resolverV1 } from "@tailor/proto";
import { TAILOR_VERSION } from "@tailor/service";
import type { BuilderDependencies } from "../builder-dependencies.js";
import type { Build, LockedConfig, LockedPackage, LockedVariant } from "../builds/build.js";
import { MANUAL_TRIGGER } from "../builds/build.js";
import { BuildFailure } from "../builds/errors.js";
import { enqueueBuildSucceeded } from "../events/build-events.js";
import { createBuildProvenance, PROVENANCE_MEDIA_TYPE } from "../provenance/build-provenance.js";
import type { StoredBlob } from "../registry/stored-image.js";
import { repositoryName } from "../registry/stored-image.js";
import {
  findLastSucceeded,
  finishBuild,
  lockBuild,
  saveLockedConfig,
} from "../store/build-store.js";
import {
  ensureRepository,
  moveTags,
  recordManifests,
  recordRepositoryBlobs,
} from "../store/registry-store.js";
import type { BuildLog } from "./build-log.js";
import { imageDefinitionFor } from "./image-definition.js";
import { buildTags } from "./image-tags.js";
import type { PackageCache } from "./package-cache.js";

/** The assembler a worker uses: `assembleImage` of @tailor/assembly, or a stand-in in tests. */
export type Assembler = (
  input: AssembleInput,
  deps: AssembleDependencies,
) => Promise<AssembledImage>;

/** Points in a build where a test may stop a worker as if it had been killed. */
export type BuildCheckpoint = "resolved" | "assembled" | "committed";

/** What one build execution needs beyond the service's dependencies. */
export interface BuildExecutionContext {
  readonly deps: BuilderDependencies;
  readonly build: Build;
  readonly log: BuildLog;
  readonly logger: Logger;
  /** Aborted on cancellation or timeout; its reason says which. */
  readonly signal: AbortSignal;
  readonly packages: PackageCache;
  readonly layers: LayerCache;
  readonly assemble: Assembler;
  /** Returns "abandon" to stop as if the worker died here (tests). */
  readonly checkpoint: (step: BuildCheckpoint) => Promise<"continue" | "abandon">;
}

/** How a build execution ended, short of an exception. */
export type BuildOutcome = "succeeded" | "up_to_date" | "not_running" | "abandoned";

const VARIANTS = ["image", "dev"] as const;

/** How many packages are fetched at once. */
const FETCH_CONCURRENCY = 8;

/**
 * Reasons of the catalog's FetchPackage errors that mean its bytes were
 * verified and refused: retrying cannot help, the build fails as `package_rejected`.
 */
const REJECTED_BY_CATALOG = new Set(["package_corrupt", "package_checksum_mismatch"]);

/**
 * Runs one build: resolve every arch × variant (the locked config), fetch the
 * packages, assemble, store blobs and indexes, then commit registry rows,
 * tag moves, the build's end and tailor.build.succeeded in one transaction.
 * Throws {@link BuildFailure} for a build that cannot succeed; any other
 * error is transient (the job is retried).
 */
export async function executeBuild(context: BuildExecutionContext): Promise<BuildOutcome> {
  const { deps, build, log, signal } = context;
  const metadata = await deps.serviceMetadata().catch((error: unknown) => {
    throw new BuildFailure(
      "no_service_credentials",
      "the builder has no service credentials (TAILOR_SERVICE_API_KEY) to read the catalog and resolve with",
      { cause: error },
    );
  });
  const call = { metadata, signal };

  // 1. What to build.
  log.info(
    "prepare",
    `building ${build.customImage} revision ${build.revision} (${build.trigger})`,
  );
  const customImage = await expectFound(
    deps.catalog.getCustomImage(
      { orgId: build.orgId, name: build.customImage, revision: build.revision },
      call,
    ),
    "custom_image_not_found",
    `custom image ${build.customImage} revision ${build.revision} no longer exists`,
  ).then((response) => required(response.customImage, "custom image"));
  const sourceImage = await expectFound(
    deps.catalog.getSourceImage({ name: customImage.sourceImage }, call),
    "source_image_not_found",
    `source image ${customImage.sourceImage} no longer exists`,
  ).then((response) => required(response.sourceImage, "source image"));
  const organization = await expectFound(
    deps.entitlement.getOrganization({ id: build.orgId }, call),
    "organization_not_found",
    `organization ${build.orgId} no longer exists`,
  ).then((response) => required(response.organization, "organization"));
  const arches = sourceImage.archs.length > 0 ? [...sourceImage.archs] : ["x86_64"];
  signal.throwIfAborted();

  // 2. Resolve every arch and variant.
  const added = customImage.overlay?.packages ?? [];
  const resolved = await Promise.all(
    arches.flatMap((arch) =>
      VARIANTS.map(async (variant) => {
        const response = await deps.resolver
          .resolve(
            {
              orgId: build.orgId,
              sourceImage: sourceImage.name,
              arch,
              packages: [...added],
              devVariant: variant === "dev",
            },
            call,
          )
          .catch((error: unknown) => {
            throw resolveCallFailure(error, variant, arch);
          });
        if (!response.ok) {
          throw new BuildFailure(
            "resolve_failed",
            `${variant} ${arch}: ${response.failure?.text ?? "the closure cannot be resolved"}`,
          );
        }
        log.info(
          "resolve",
          `${variant} ${arch}: ${response.packages.length} packages: ${response.packages
            .map((pkg) => `${pkg.name}-${pkg.version}`)
            .join(" ")}`,
        );
        return { variant, arch, response };
      }),
    ),
  );
  signal.throwIfAborted();

  // 3. Fetch the packages (each once) into the worker's cache.
  const fetched = await fetchPackages(
    context,
    resolved.flatMap((entry) => entry.response.packages),
    call,
  );
  signal.throwIfAborted();

  // 4. The locked config and the closure facts the planner needs.
  const variants: LockedVariant[] = resolved.map(({ variant, arch, response }) => ({
    variant,
    arch,
    packages: response.packages.map(
      (pkg): LockedPackage => ({
        name: pkg.name,
        version: pkg.version,
        arch: pkg.arch,
        repository: pkg.repository,
        checksum: pkg.checksum,
        pinned: pkg.pinned,
      }),
    ),
  }));
  const newest = Math.max(
    0,
    ...[...fetched.values()].map((entry) =>
      entry.pkg.buildTime === undefined ? 0 : timestampDate(entry.pkg.buildTime).getTime(),
    ),
  );
  const sourceDateEpoch = new Date(Math.floor(newest / 1000) * 1000);
  const mainVersion =
    resolved.find((entry) => entry.variant === "image")?.response.sourceImageVersion ?? "";
  const locked: LockedConfig = {
    sourceImage: sourceImage.name,
    sourceImageGeneration: sourceImage.generation,
    sourceImageVersion: mainVersion,
    revision: customImage.revision,
    variants,
    sourceDateEpoch: sourceDateEpoch.toISOString(),
    builderVersion: TAILOR_VERSION,
  };
  const closureNames: Record<string, string[]> = {};
  for (const { arch, response } of resolved) {
    const names = new Set(closureNames[arch] ?? []);
    for (const pkg of response.packages) {
      names.add(pkg.name);
      for (const provided of fetched.get(packageKey(pkg))?.pkg.provides ?? []) {
        names.add(providedName(provided));
      }
    }
    closureNames[arch] = [...names].sort();
  }
  const closureHash = hashClosure(locked);
  await log.flush();
  await saveLockedConfig(deps.db, build.id, locked, closureNames, closureHash);

  // A rebuild the planner asked for is skipped when nothing changed.
  if (build.trigger !== MANUAL_TRIGGER) {
    const last = await findLastSucceeded(deps.db, build.orgId, build.customImage);
    if (last !== undefined && last.closureHash === closureHash) {
      log.info("plan", `the closure is identical to build ${last.id}'s: nothing to rebuild`);
      await log.flush();
      const ended = await deps.db.transaction().execute(async (trx) => {
        const finished = await finishBuild(trx, build.id, {
          status: "up_to_date",
          finishedAt: deps.now(),
          digests: last.digests,
          tags: last.tags,
        });
        if (finished !== undefined) await enqueueBuildSucceeded(trx, finished, true);
        return finished;
      });
      await deps.events.flushAfterCommit();
      return ended === undefined ? "not_running" : "up_to_date";
    }
  }
  if ((await context.checkpoint("resolved")) === "abandon") return "abandoned";

  // 5. Assemble every arch and variant.
  const repository = repositoryName(organization.name, build.customImage);
  const repositoryKeys = await privateRepositoryKeys(deps, build.orgId, call, log);
  const sink = blobSinkOver(deps, signal);
  const stored: StoredBlob[] = [];
  const manifests: StoredBlob[] = [];
  const digests: Record<string, string> = {};
  for (const variant of VARIANTS) {
    const perArch: { arch: string; image: AssembledImage }[] = [];
    for (const arch of arches) {
      const entry = resolved.find((item) => item.variant === variant && item.arch === arch);
      if (entry === undefined) continue;
      const sources = entry.response.packages.map((pkg) =>
        packageSource(context, pkg, fetched.get(packageKey(pkg))),
      );
      const step = `assemble ${variant} ${arch}`;
      log.info(step, `assembling ${sources.length} packages`);
      const image = await context
        .assemble(
          {
            arch,
            variant,
            packages: sources,
            config: imageDefinitionFor({
              sourceImage,
              overlay: customImage.overlay,
              variant,
              orgName: organization.name,
              apkRepositoryUrl: deps.config.apkRepositoryUrl,
              repositoryKeys,
            }),
            sourceDateEpoch,
            imageName: repository,
          },
          {
            cache: context.layers,
            blobs: sink,
            log: (assemblyStep, text) => log.info(`${step}: ${assemblyStep}`, text),
          },
        )
        .catch((error: unknown) => {
          throw assemblyFailure(error, variant, arch);
        });
      signal.throwIfAborted();
      log.info(step, `manifest ${image.manifest.digest} (${image.layers.length} layers)`);
      perArch.push({ arch, image });
      digests[`${variant}/${arch}`] = image.manifest.digest;
      const manifest = {
        digest: image.manifest.digest,
        mediaType: image.manifest.mediaType,
        size: image.manifest.size,
      };
      manifests.push(manifest);
      stored.push(
        manifest,
        { digest: image.config.digest, mediaType: image.config.mediaType, size: image.config.size },
        ...image.layers.map((layer) => ({
          digest: layer.digest,
          mediaType: layer.mediaType,
          size: layer.size,
        })),
        {
          digest: image.sbom.descriptor.digest,
          mediaType: image.sbom.descriptor.mediaType,
          size: image.sbom.descriptor.size,
        },
      );
    }
    const index = createImageIndex({
      manifests: perArch.map(({ arch, image }) => ({
        mediaType: image.manifest.mediaType,
        digest: image.manifest.digest,
        size: image.manifest.size,
        platform: platformForApkArch(arch),
      })),
    });
    await sink.put(index.descriptor.digest, index.bytes, index.descriptor.size);
    const indexBlob = {
      digest: index.descriptor.digest,
      mediaType: MediaType.imageIndex,
      size: index.descriptor.size,
    };
    manifests.push(indexBlob);
    stored.push(indexBlob);
    digests[variant] = index.descriptor.digest;
    log.info("index", `${variant}: index ${index.descriptor.digest} over ${arches.join(", ")}`);
  }
  // The provenance statement: what was built, from what, by which builder.
  const provenance = createBuildProvenance({
    buildId: build.id,
    orgId: build.orgId,
    repository,
    customImage: build.customImage,
    trigger: build.trigger,
    locked,
    subjects: Object.fromEntries(VARIANTS.flatMap((v) => (digests[v] ? [[v, digests[v]]] : []))),
    createdAt: build.createdAt,
  });
  await sink.put(provenance.digest, provenance.bytes, provenance.bytes.length);
  stored.push({
    digest: provenance.digest,
    mediaType: PROVENANCE_MEDIA_TYPE,
    size: provenance.bytes.length,
  });
  digests.provenance = provenance.digest;
  log.info("provenance", `SLSA provenance ${provenance.digest}`);
  if ((await context.checkpoint("assembled")) === "abandon") return "abandoned";
  signal.throwIfAborted();

  // 6. Registry rows, tags and the end of the build, all or nothing.
  const uniqueAt = uniqueTagsEnabled(deps.config.uniqueTagOrgs, organization)
    ? build.createdAt
    : undefined;
  const tags = buildTags({
    imageDigest: digests.image ?? "",
    devDigest: digests.dev ?? "",
    version: mainVersion,
    ...(uniqueAt === undefined ? {} : { uniqueAt }),
  });
  await log.flush();
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const current = await lockBuild(trx, build.id);
    if (current?.status !== "running") return undefined;
    const now = deps.now();
    await ensureRepository(trx, {
      name: repository,
      orgId: build.orgId,
      customImage: build.customImage,
    });
    await recordManifests(trx, repository, manifests, build.id);
    await recordRepositoryBlobs(trx, repository, stored);
    const moves = await moveTags(trx, repository, tags, build.id, now);
    const finished = await finishBuild(trx, build.id, {
      status: "succeeded",
      finishedAt: now,
      digests,
      tags: tags.map((tag) => tag.name),
    });
    if (finished === undefined) return undefined;
    await enqueueBuildSucceeded(trx, finished, false);
    return { moves };
  });
  if (outcome === undefined) return "not_running";
  await deps.events.flushAfterCommit();
  context.logger.info({ repository, digests, tagMoves: outcome.moves.length }, "build succeeded");
  if ((await context.checkpoint("committed")) === "abandon") return "abandoned";
  return "succeeded";
}

interface FetchedPackage {
  pkg: catalogV1.Package;
  path: string;
}

function packageKey(
  pkg: Pick<resolverV1.ResolvedPackage, "repository" | "arch" | "name" | "version">,
) {
  return `${pkg.repository}/${pkg.arch}/${pkg.name}-${pkg.version}`;
}

async function fetchPackages(
  context: BuildExecutionContext,
  closure: readonly resolverV1.ResolvedPackage[],
  call: { metadata: Record<string, string>; signal: AbortSignal },
): Promise<Map<string, FetchedPackage>> {
  const unique = new Map<string, resolverV1.ResolvedPackage>();
  for (const pkg of closure) unique.set(packageKey(pkg), pkg);
  const fetched = new Map<string, FetchedPackage>();
  const queue = [...unique.entries()];
  const started = performance.now();
  async function next(): Promise<void> {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      const [key, pkg] = item;
      const label = `${pkg.name}-${pkg.version}`;
      const response = await context.deps.catalog
        .fetchPackage(
          { repository: pkg.repository, arch: pkg.arch, name: pkg.name, version: pkg.version },
          call,
        )
        .catch((error: unknown) => {
          const status = TailorError.from(error);
          if (REJECTED_BY_CATALOG.has(status.reason ?? "")) {
            // The catalog downloaded the bytes and refused them (unsafe entries, altered data).
            throw new BuildFailure(
              "package_rejected",
              `package ${label} (${pkg.repository}, ${pkg.arch}) was rejected: ${status.message}`,
              { cause: error },
            );
          }
          if (
            status.code === Code.NOT_FOUND ||
            status.code === Code.FAILED_PRECONDITION ||
            status.code === Code.DATA_LOSS
          ) {
            throw new BuildFailure(
              "package_unavailable",
              `package ${label} (${pkg.repository}, ${pkg.arch}) cannot be fetched: ${status.message}`,
              { cause: error },
            );
          }
          throw error;
        });
      const found = required(response.package, `package ${label}`);
      if (found.checksum !== pkg.checksum) {
        throw new BuildFailure(
          "package_changed",
          `package ${label} in ${pkg.repository} has checksum ${found.checksum}, but the closure locked ${pkg.checksum}`,
        );
      }
      const path = await context.packages.ensure(response.blobDigest, call.signal);
      fetched.set(key, { pkg: found, path });
    }
  }
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, queue.length) }, next));
  context.log.info(
    "fetch",
    `${fetched.size} packages ready in ${Math.round(performance.now() - started)} ms`,
  );
  return fetched;
}

function packageSource(
  context: BuildExecutionContext,
  pkg: resolverV1.ResolvedPackage,
  fetched: FetchedPackage | undefined,
): PackageSource {
  if (fetched === undefined) throw new Error(`package ${pkg.name}-${pkg.version} was not fetched`);
  const info = fetched.pkg;
  return {
    name: pkg.name,
    version: pkg.version,
    arch: info.arch === "" ? pkg.arch : info.arch,
    checksum: pkg.checksum,
    repository: pkg.repository,
    installedSize: Number(pkg.installedSize),
    pinned: pkg.pinned,
    ...(info.origin === "" ? {} : { origin: info.origin }),
    ...(info.license === "" ? {} : { license: info.license }),
    ...(info.description === "" ? {} : { description: info.description }),
    ...(info.url === "" ? {} : { url: info.url }),
    ...(info.buildTime === undefined ? {} : { buildTime: timestampDate(info.buildTime) }),
    open: async () => context.packages.open(fetched.path),
  };
}

function blobSinkOver(deps: BuilderDependencies, signal: AbortSignal): BlobSink {
  return {
    has: (digest) => deps.blobs.has(digest),
    async put(digest, bytes, size) {
      await deps.blobs.put(bytes, { expectedDigest: digest, expectedSize: size, signal });
    },
  };
}

/** `so:libc.musl-x86_64.so.1=1` → `so:libc.musl-x86_64.so.1`. */
function providedName(provided: string): string {
  return provided.split(/[=<>~]/, 1)[0] ?? provided;
}

function hashClosure(locked: LockedConfig): string {
  const material = JSON.stringify({
    revision: locked.revision,
    sourceImage: locked.sourceImage,
    sourceImageGeneration: locked.sourceImageGeneration,
    variants: locked.variants,
  });
  return `sha256:${createHash("sha256").update(material).digest("hex")}`;
}

/**
 * Whether a build pushes a unique `<version>-<YYYYMMDDHHMMSS>` tag: the
 * organization turned unique tags on, or the operator's
 * `TAILOR_BUILDER_UNIQUE_TAG_ORGS` override lists it (or `*`).
 */
function uniqueTagsEnabled(
  operatorOrgs: string | undefined,
  organization: { name: string; uniqueTags: boolean },
): boolean {
  if (organization.uniqueTags) return true;
  if (operatorOrgs === undefined) return false;
  const names = operatorOrgs.split(",").map((name) => name.trim());
  return names.includes("*") || names.includes(organization.name);
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the answer about the ${what} was empty`);
  return value;
}

async function expectFound<T>(call: Promise<T>, reason: string, message: string): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (TailorError.from(error).code === Code.NOT_FOUND) {
      throw new BuildFailure(reason, message, { cause: error });
    }
    throw error;
  }
}

function resolveCallFailure(error: unknown, variant: string, arch: string): unknown {
  const status = TailorError.from(error);
  if (status.code === Code.PERMISSION_DENIED || status.code === Code.NOT_FOUND) {
    return new BuildFailure("not_entitled", `${variant} ${arch}: ${status.message}`, {
      cause: error,
    });
  }
  if (status.code === Code.INVALID_ARGUMENT) {
    return new BuildFailure("invalid_custom_image", `${variant} ${arch}: ${status.message}`, {
      cause: error,
    });
  }
  if (status.code === Code.FAILED_PRECONDITION) {
    // The source image's own closure or the arch is unavailable: a retry gives the same answer.
    return new BuildFailure("resolve_failed", `${variant} ${arch}: ${status.message}`, {
      cause: error,
    });
  }
  return error;
}

function assemblyFailure(error: unknown, variant: string, arch: string): unknown {
  const where = `${variant} ${arch}`;
  if (error instanceof FileConflictError) {
    return new BuildFailure("file_conflict", `${where}: ${error.message}`, { cause: error });
  }
  if (error instanceof PackageRejectedError) {
    return new BuildFailure("package_rejected", `${where}: ${error.message}`, { cause: error });
  }
  if (error instanceof LayerBudgetError) {
    return new BuildFailure("layer_budget", `${where}: ${error.message}`, { cause: error });
  }
  if (error instanceof InvalidAssemblyInputError) {
    return new BuildFailure("invalid_config", `${where}: ${error.message}`, { cause: error });
  }
  return error;
}

/** How long the gateway may take to answer GetApkRepositoryKeys (it may create the key). */
const KEY_DEADLINE_MS = 60_000;

/**
 * The public keys of the organization's private APK repository, for the
 * `-dev` variant's /etc/apk/keys, when that repository is configured. A
 * gateway that cannot answer costs the image its key, not the build: the
 * log says so and `apk update` in the image will ask for the key.
 */
async function privateRepositoryKeys(
  deps: BuilderDependencies,
  orgId: string,
  call: { metadata: Record<string, string>; signal: AbortSignal },
  log: BuildLog,
): Promise<{ name: string; pem: string }[]> {
  if (deps.config.apkRepositoryUrl === undefined) return [];
  try {
    // The first call for an organization generates its RSA-4096 key: seconds, not milliseconds.
    const { keys } = await deps.gateway.getApkRepositoryKeys(
      { orgId },
      { ...call, deadlineMs: KEY_DEADLINE_MS },
    );
    log.info(
      "keys",
      `-dev images trust the private APK repository keys ${keys.map((key) => key.name).join(", ")}`,
    );
    return keys.map((key) => ({ name: key.name, pem: key.publicKeyPem }));
  } catch (error) {
    if (call.signal.aborted) throw error;
    log.line(
      "warn",
      "keys",
      `cannot get the private APK repository's keys from the gateway (${error instanceof Error ? error.message : String(error)}); -dev images will not trust it until rebuilt`,
    );
    return [];
  }
}
