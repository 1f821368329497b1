/**
 * Assembles one OCI image (one architecture, one variant) from a resolved
 * closure: inspect every package (cached), decide file ownership, plan the
 * layers within the budget, reuse or write each layer, add the generated
 * top layer, then the config, the SBOM and the manifest. Pure: package
 * bytes, the cache and the blob sink are passed in; nothing reads a clock.
 */
import { formatInstalledDb, formatWorld, type InstalledRecord } from "@tailor/apk";
import {
  createDescriptor,
  createImageConfig,
  createImageManifest,
  type Descriptor,
  type ImageHistoryInput,
  MediaType,
  writeLayer,
} from "@tailor/oci";
import { accountFiles, homeOf } from "./accounts-files.js";
import type { BlobSink } from "./blob-sink.js";
import { readByteRange } from "./byte-range.js";
import { InvalidAssemblyInputError, PackageRejectedError } from "./errors.js";
import { type FileOwnership, type LaidOutPackage, resolveFileOwnership } from "./file-ownership.js";
import { DEFAULT_PATH, type ImageDefinition } from "./image-definition.js";
import type { LayerCache, PackageLayerInfo, WrittenLayerInfo } from "./layer-cache.js";
import {
  baseLayerShare,
  DEFAULT_LAYER_BUDGET,
  DEFAULT_MERGE_BELOW_BYTES,
  MAX_LAYER_BUDGET,
  type PlannedLayer,
  type PlanUnit,
  planLayers,
} from "./layer-plan.js";
import { mapConcurrent } from "./map-concurrent.js";
import { formatOsRelease, type OsRelease } from "./os-release.js";
import {
  checkInspection,
  DEFAULT_PACKAGE_LIMITS,
  INSPECTION_VERSION,
  inspectPackage,
  type PackageLimits,
} from "./package-inspection.js";
import { type LayerMember, writeMembersLayer, writtenLayerKey } from "./package-layer-writer.js";
import { type PackageSource, packageLabel } from "./package-source.js";
import { createSpdxSbom } from "./spdx-sbom.js";
import {
  type GeneratedDirectory,
  type GeneratedFile,
  GeneratedPath,
  isPackaged,
  packagedContent,
  topLayerEntries,
} from "./top-layer.js";

/** Name written into SBOMs and layer history. */
export const ASSEMBLER_TOOL = "tailor-assembly-0.1.0";

/** What to assemble. */
export interface AssembleInput {
  /** APK architecture of the image (`x86_64`, `aarch64`, …); packages are this or `noarch`. */
  arch: string;
  /** The plain image or its `-dev` variant (the closure then holds the dev packages). */
  variant: "image" | "dev";
  /** The closure, in install order. */
  packages: PackageSource[];
  /** Run configuration, accounts, certificates, apk settings (see {@link mergeImageDefinitions}). */
  config: ImageDefinition;
  /** Time of the config, the history and generated files. @default the newest package build time */
  sourceDateEpoch?: Date;
  /** Most layers, top layer included. @default 32 (at most 127) */
  layerBudget?: number;
  /** Fields of a generated `/etc/os-release`; without them a packaged one is kept, or Tailor's default written. */
  osRelease?: OsRelease;
  /** Prefix of the SBOM's `documentNamespace`. @default "https://tailor.invalid/spdx" */
  sbomNamespace?: string;
  /** Image name for the SBOM (`org/image`). @default "image" */
  imageName?: string;
  /** purl namespace of the packages (`alpine`, `wolfi`). @default "tailor" */
  purlNamespace?: string;
  /** Package size limits. */
  limits?: Partial<PackageLimits>;
  /** Packages smaller than this (compressed) share merged layers. @default 1 MiB */
  mergeBelowBytes?: number;
  /** gzip level of written layers (merged, rewritten, top). @default 6 */
  gzipLevel?: number;
  /** Packages inspected and layers written at once. @default 4 */
  concurrency?: number;
}

/** What assembly needs from its caller. */
export interface AssembleDependencies {
  /** Inspections and written layers kept between builds. */
  cache: LayerCache;
  /** Where layers, config, SBOM and manifest go. */
  blobs: BlobSink;
  /** Build log: a step (`inspect`, `conflicts`, `plan`, `layer`, `top`, `image`) and a line of text. */
  log?: (step: string, text: string) => void;
}

/** The assembled image. */
export interface AssembledImage {
  /** The image manifest (stored in the blob sink too). */
  manifest: Descriptor & { bytes: Uint8Array };
  /** The image config (stored in the blob sink). */
  config: Descriptor & { bytes: Uint8Array };
  /** The layers, bottom first, the generated top layer last. */
  layers: Descriptor[];
  /** The SPDX 2.3 JSON SBOM (stored in the blob sink, and in the top layer). */
  sbom: { descriptor: Descriptor; bytes: Uint8Array };
  /** Each package (install order) and the digest of the layer holding its files ("" for a package without files). */
  packages: { name: string; version: string; layer: string }[];
  /** Sum of the packages' installed sizes. */
  installedSize: number;
  /** The time used for the config, history and generated files. */
  created: Date;
  /** How each layer was made, bottom first. */
  layerSources: { digest: string; kind: "reused" | "written" | "generated"; packages: string[] }[];
}

/**
 * Assembles the image and stores its blobs. Same inputs → same bytes.
 * @throws PackageRejectedError for an unsafe or wrong package; FileConflictError
 *   for a path two packages install where apk would refuse; LayerBudgetError;
 *   InvalidAssemblyInputError for malformed input.
 */
export async function assembleImage(
  input: AssembleInput,
  deps: AssembleDependencies,
): Promise<AssembledImage> {
  const log = deps.log ?? (() => {});
  const budget = input.layerBudget ?? DEFAULT_LAYER_BUDGET;
  if (!Number.isInteger(budget) || budget < 2 || budget > MAX_LAYER_BUDGET) {
    throw new InvalidAssemblyInputError(
      "layerBudget",
      `${budget} is not an integer from 2 to ${MAX_LAYER_BUDGET}`,
    );
  }
  const limits: PackageLimits = { ...DEFAULT_PACKAGE_LIMITS, ...input.limits };
  const gzipLevel = input.gzipLevel ?? 6;
  const concurrency = input.concurrency ?? 4;
  checkPackages(input);

  // 1. Inspect (once per checksum).
  const infos = await mapConcurrent(input.packages, concurrency, (source) =>
    inspected(source, limits, deps, log),
  );

  // 2. Layer order: the source image's packages, then the added ones.
  const order = [
    ...input.packages.map((_, index) => index).filter((i) => input.packages[i]?.pinned),
    ...input.packages.map((_, index) => index).filter((i) => !input.packages[i]?.pinned),
  ];
  const laidOut: LaidOutPackage[] = order.map((index) => ({
    source: input.packages[index] as PackageSource,
    info: infos[index] as PackageLayerInfo,
  }));
  const ownership = resolveFileOwnership(laidOut);
  const excluded = excludedPaths(laidOut, ownership);
  for (const [index, paths] of excluded) {
    const label = packageLabel((laidOut[index] as LaidOutPackage).source);
    for (const [path, reason] of paths) log("conflicts", `${label}: /${path} left out: ${reason}`);
  }

  // 3. Plan.
  const units = laidOut.map(
    ({ source, info }, index): PlanUnit & { pinned: boolean; size: number } => ({
      index,
      size: info.size,
      rewrite: excluded.has(index),
      alone: info.binaryXattrs,
      overwrites: ownership.overwrites.get(index) ?? new Set(),
      pinned: source.pinned,
    }),
  );
  const withData = units.filter((unit) => unit.size > 0);
  const base = withData.filter((unit) => unit.pinned);
  const added = withData.filter((unit) => !unit.pinned);
  const mergeBelow = input.mergeBelowBytes ?? DEFAULT_MERGE_BELOW_BYTES;
  const basePlan = planLayers(
    base,
    baseLayerShare(budget, base.length > 0, added.length > 0),
    mergeBelow,
    "the source image's packages",
  );
  const addedPlan = planLayers(
    added,
    budget - 1 - basePlan.length,
    mergeBelow,
    "the added packages",
  );
  const plan = [...basePlan, ...addedPlan];
  log(
    "plan",
    `${plan.length + 1} layers: ${basePlan.length} for the source image's ${base.length} packages, ${addedPlan.length} for ${added.length} added, 1 generated; ${plan.filter((l) => l.reused).length} reused as is`,
  );

  // 4. Package layers.
  const built = await mapConcurrent(plan, concurrency, (layer) =>
    packageLayer(layer, laidOut, excluded, gzipLevel, deps, log),
  );

  // 5. Generated files.
  const created = input.sourceDateEpoch ?? newestBuildTime(input.packages, infos);
  const imageName = input.imageName ?? "image";
  const sbomBytes = createSpdxSbom({
    imageName,
    variant: input.variant,
    arch: input.arch,
    created,
    packages: input.packages.map((source, index) => {
      const info = infos[index] as PackageLayerInfo;
      return {
        name: source.name,
        version: source.version,
        arch: source.arch,
        checksum: source.checksum,
        apkSha256: info.apkSha256,
        repository: source.repository,
        ...optional("license", source.license ?? info.installed?.license),
        ...optional("description", source.description ?? info.installed?.description),
        ...optional("url", source.url ?? info.installed?.url),
        ...optional("origin", source.origin ?? info.installed?.origin),
      };
    }),
    purlNamespace: input.purlNamespace ?? "tailor",
    documentNamespace: input.sbomNamespace ?? "https://tailor.invalid/spdx",
    tool: ASSEMBLER_TOOL,
  });
  const sbomDescriptor = createDescriptor(MediaType.spdxJson, sbomBytes);
  const { files, directories } = generatedFiles(input, infos, laidOut, ownership, sbomBytes);
  const chunks: Uint8Array[] = [];
  const top = await writeLayer(
    topLayerEntries(files, directories, ownership, created),
    (chunk) => {
      chunks.push(chunk);
    },
    { gzipLevel },
  );
  await store(deps.blobs, top.digest, Buffer.concat(chunks));
  log("top", `generated ${files.length} files: ${top.digest} (${top.size} bytes)`);

  // 6. Config, manifest, SBOM.
  const layerDescriptors: Descriptor[] = [
    ...built.map((layer) => layerDescriptor(layer.digest, layer.size)),
    layerDescriptor(top.digest, top.size),
  ];
  const history: ImageHistoryInput[] = [
    ...built.map((layer) => ({
      created,
      createdBy: `apk add ${layer.labels.join(" ")}`,
      comment:
        layer.kind === "reused" ? "package data segment reused as the layer" : "packages merged",
    })),
    { created, createdBy: "tailor: generated files", comment: "apk database, settings, accounts" },
  ];
  const definition = input.config;
  const config = createImageConfig({
    arch: input.arch,
    created,
    ...optional("entrypoint", definition.entrypoint),
    ...optional("cmd", definition.cmd),
    env: environment(definition.env),
    ...optional("user", definition.accounts?.runAs),
    ...optional("workingDir", definition.workDir),
    ...optional("labels", definition.labels),
    ...optional("stopSignal", definition.stopSignal),
    diffIds: [...built.map((layer) => layer.diffId), top.diffId],
    history,
  });
  await store(deps.blobs, config.descriptor.digest, config.bytes);
  await store(deps.blobs, sbomDescriptor.digest, sbomBytes);
  const manifest = createImageManifest({
    config: config.descriptor,
    layers: layerDescriptors,
    ...optional("annotations", definition.annotations),
  });
  await store(deps.blobs, manifest.descriptor.digest, manifest.bytes);
  log("image", `manifest ${manifest.descriptor.digest}, ${layerDescriptors.length} layers`);

  const layerOfPackage = new Map<string, string>();
  for (const layer of built) for (const name of layer.names) layerOfPackage.set(name, layer.digest);
  return {
    manifest: { ...manifest.descriptor, bytes: manifest.bytes },
    config: { ...config.descriptor, bytes: config.bytes },
    layers: layerDescriptors,
    sbom: { descriptor: sbomDescriptor, bytes: sbomBytes },
    packages: input.packages.map((source) => ({
      name: source.name,
      version: source.version,
      layer: layerOfPackage.get(source.name) ?? "",
    })),
    installedSize: input.packages.reduce((sum, source) => sum + source.installedSize, 0),
    created,
    layerSources: [
      ...built.map((layer) => ({
        digest: layer.digest,
        kind: layer.kind,
        packages: layer.labels,
      })),
      { digest: top.digest, kind: "generated" as const, packages: [] },
    ],
  };
}

function checkPackages(input: AssembleInput): void {
  const names = new Set<string>();
  input.packages.forEach((source, index) => {
    if (names.has(source.name)) {
      throw new InvalidAssemblyInputError(
        `packages[${index}]`,
        `package ${source.name} appears twice in the closure`,
      );
    }
    names.add(source.name);
    if (source.arch !== input.arch && source.arch !== "noarch") {
      throw new PackageRejectedError(
        packageLabel(source),
        "",
        `built for ${source.arch}, not ${input.arch}`,
      );
    }
  });
}

async function inspected(
  source: PackageSource,
  limits: PackageLimits,
  deps: AssembleDependencies,
  log: (step: string, text: string) => void,
): Promise<PackageLayerInfo> {
  const label = packageLabel(source);
  let info = await deps.cache.get(source.checksum);
  if (info === undefined || info.inspection !== INSPECTION_VERSION) {
    const started = performance.now();
    info = await inspectPackage(source, limits);
    const seconds = (performance.now() - started) / 1000;
    const megabytes = info.uncompressedSize / 1e6;
    log(
      "inspect",
      `${label}: ${megabytes.toFixed(1)} MB inflated and checked in ${(seconds * 1000).toFixed(0)} ms (${(megabytes / Math.max(seconds, 1e-6)).toFixed(0)} MB/s)`,
    );
    await deps.cache.set(source.checksum, info);
  }
  checkInspection(source, info, limits);
  const scripts = info.scripts.filter((name) => name !== ".trigger");
  if (scripts.length > 0) {
    // Like apko, assembly lays files down without running scripts; say so, a user may rely on one.
    log("inspect", `${label}: install scripts not run: ${scripts.join(", ")}`);
  }
  if (!info.datahash) {
    log(
      "inspect",
      `${label}: no datahash: its data is bound to its checksum by the signature only`,
    );
  }
  return info;
}

/** Entries left out per package: those ownership decided, and a root entry that is not root:root 0755. */
function excludedPaths(
  packages: readonly LaidOutPackage[],
  ownership: FileOwnership,
): Map<number, Map<string, string>> {
  const out = new Map<number, Map<string, string>>();
  for (const [index, paths] of ownership.excluded) out.set(index, new Map(paths));
  packages.forEach(({ info }, index) => {
    const root = info.files.find((file) => file.path === ".");
    if (root !== undefined && (root.mode !== 0o755 || root.uid !== 0 || root.gid !== 0)) {
      const paths = out.get(index) ?? new Map<string, string>();
      paths.set(".", "it would change the owner or mode of the image root");
      out.set(index, paths);
    }
  });
  return out;
}

interface BuiltLayer {
  digest: string;
  diffId: string;
  size: number;
  kind: "reused" | "written";
  labels: string[];
  names: string[];
}

async function packageLayer(
  layer: PlannedLayer,
  packages: readonly LaidOutPackage[],
  excluded: ReadonlyMap<number, ReadonlyMap<string, string>>,
  gzipLevel: number,
  deps: AssembleDependencies,
  log: (step: string, text: string) => void,
): Promise<BuiltLayer> {
  const members = layer.members.map((index) => packages[index] as LaidOutPackage);
  const labels = members.map(({ source }) => packageLabel(source));
  const names = members.map(({ source }) => source.name);
  if (layer.reused) {
    const { source, info } = members[0] as LaidOutPackage;
    if (!(await deps.blobs.has(info.digest))) {
      const range = readByteRange(
        await source.open(),
        info.dataOffset,
        info.size,
        info.digest.slice("sha256:".length),
        `data of ${labels[0]}`,
      );
      await deps.blobs.put(info.digest, range, info.size);
    }
    log("layer", `${labels[0]}: data segment reused: ${info.digest} (${info.size} bytes)`);
    return {
      digest: info.digest,
      diffId: info.diffId,
      size: info.size,
      kind: "reused",
      labels,
      names,
    };
  }
  const layerMembers: LayerMember[] = layer.members.map((index) => ({
    ...(packages[index] as LaidOutPackage),
    excluded: new Set(excluded.get(index)?.keys() ?? []),
  }));
  const key = writtenLayerKey(layerMembers, gzipLevel);
  let written: WrittenLayerInfo | undefined = await deps.cache.getWritten?.(key);
  if (written === undefined || !(await deps.blobs.has(written.digest))) {
    const started = performance.now();
    const result = await writeMembersLayer(layerMembers, gzipLevel);
    await store(deps.blobs, result.layer.digest, result.bytes);
    await deps.cache.setWritten?.(key, result.layer);
    written = result.layer;
    const why =
      members.length > 1
        ? `${members.length} packages merged`
        : "rewritten without left-out entries";
    log(
      "layer",
      `${labels.join(", ")}: ${why}: ${written.digest} (${written.size} bytes, ${(performance.now() - started).toFixed(0)} ms)`,
    );
  } else {
    log("layer", `${labels.join(", ")}: written before: ${written.digest}`);
  }
  return {
    digest: written.digest,
    diffId: written.diffId,
    size: written.size,
    kind: "written",
    labels,
    names,
  };
}

function generatedFiles(
  input: AssembleInput,
  infos: readonly PackageLayerInfo[],
  packages: readonly LaidOutPackage[],
  ownership: FileOwnership,
  sbom: Uint8Array,
): { files: GeneratedFile[]; directories: GeneratedDirectory[] } {
  const text = (content: string) => new TextEncoder().encode(content);
  const definition = input.config;
  const files: GeneratedFile[] = [];

  const records: InstalledRecord[] = input.packages.map((source, index) => {
    const record = (infos[index] as PackageLayerInfo).installed;
    if (record === undefined) {
      throw new PackageRejectedError(packageLabel(source), "", "no installed-database record");
    }
    const laidOutIndex = packages.findIndex((pkg) => pkg.source === source);
    const lost = ownership.lost.get(laidOutIndex);
    if (lost === undefined) return record;
    // apk moves an overwritten file to its new owner's record.
    return {
      ...record,
      directories: record.directories.map((directory) => ({
        ...directory,
        files: directory.files.filter(
          (file) => !lost.has(directory.path === "" ? file.name : `${directory.path}/${file.name}`),
        ),
      })),
    };
  });
  files.push({ path: GeneratedPath.installedDb, content: text(formatInstalledDb(records)) });
  files.push({
    path: GeneratedPath.world,
    content: text(formatWorld(definition.world ?? input.packages.map((source) => source.name))),
  });
  files.push({ path: GeneratedPath.arch, content: text(`${input.arch}\n`) });
  const repositories = definition.repositories ?? [];
  repositories.forEach((line, index) => {
    if (/[\n\r]/.test(line) || line.trim() === "") {
      throw new InvalidAssemblyInputError(
        `config.repositories[${index}]`,
        "must be one non-empty line",
      );
    }
  });
  files.push({
    path: GeneratedPath.repositories,
    content: text(repositories.map((line) => `${line}\n`).join("")),
  });
  (definition.keys ?? []).forEach((key, index) => {
    if (!/^[A-Za-z0-9@._+-]+$/.test(key.name) || key.name.startsWith(".")) {
      throw new InvalidAssemblyInputError(
        `config.keys[${index}].name`,
        `${JSON.stringify(key.name)} is not a plain file name`,
      );
    }
    files.push({ path: `${GeneratedPath.keys}/${key.name}`, content: text(key.pem) });
  });

  if (input.osRelease !== undefined || !isPackaged(GeneratedPath.osRelease, ownership)) {
    files.push({ path: GeneratedPath.osRelease, content: text(formatOsRelease(input.osRelease)) });
  }

  const passwd = packagedContent(GeneratedPath.passwd, packages, ownership);
  const group = packagedContent(GeneratedPath.group, packages, ownership);
  const accounts = accountFiles(definition.accounts, {
    ...optional("passwd", passwd),
    ...optional("group", group),
  });
  if (accounts.passwd !== undefined) {
    files.push({ path: GeneratedPath.passwd, content: text(accounts.passwd) });
  }
  if (accounts.group !== undefined) {
    files.push({ path: GeneratedPath.group, content: text(accounts.group) });
  }

  const certificates = definition.certificates ?? [];
  if (certificates.length > 0) {
    const packaged = packagedContent(GeneratedPath.caBundle, packages, ownership) ?? "";
    let bundle = packaged === "" || packaged.endsWith("\n") ? packaged : `${packaged}\n`;
    for (const pem of certificates) bundle += pem.endsWith("\n") ? pem : `${pem}\n`;
    files.push({ path: GeneratedPath.caBundle, content: text(bundle) });
  }

  const sbomName = (input.imageName ?? "image").replace(/[^A-Za-z0-9._-]+/g, "-");
  files.push({
    path: `${GeneratedPath.sbomDirectory}/tailor-${sbomName}-${input.variant}.spdx.json`,
    content: sbom,
  });

  const directories: GeneratedDirectory[] = (definition.accounts?.users ?? []).map((user) => ({
    path: homeOf(user).replace(/^\/+|\/+$/g, ""),
    mode: 0o755,
    uid: user.uid,
    gid: user.gid ?? user.uid,
  }));
  return { files, directories: directories.filter((directory) => directory.path !== "") };
}

function newestBuildTime(
  packages: readonly PackageSource[],
  infos: readonly PackageLayerInfo[],
): Date {
  let newest = 0;
  packages.forEach((source, index) => {
    const seconds =
      source.buildTime !== undefined
        ? Math.floor(source.buildTime.getTime() / 1000)
        : (infos[index]?.buildTime ?? 0);
    newest = Math.max(newest, seconds);
  });
  return new Date(newest * 1000);
}

function environment(env: Record<string, string> | undefined): string[] {
  const entries = Object.entries(env ?? {});
  entries.forEach(([key], index) => {
    if (key === "" || key.includes("=")) {
      throw new InvalidAssemblyInputError(
        `config.env[${index}]`,
        `${JSON.stringify(key)} is not a variable name`,
      );
    }
  });
  const out = entries.map(([key, value]) => `${key}=${value}`);
  return env?.PATH === undefined ? [`PATH=${DEFAULT_PATH}`, ...out] : out;
}

function layerDescriptor(digest: string, size: number): Descriptor {
  return { mediaType: MediaType.layerGzip, digest, size };
}

async function store(blobs: BlobSink, digest: string, bytes: Uint8Array): Promise<void> {
  if (!(await blobs.has(digest))) await blobs.put(digest, bytes, bytes.length);
}

function optional<K extends string, V>(
  key: K,
  value: V | undefined,
): { [P in K]?: V } | Record<string, never> {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]: V });
}
