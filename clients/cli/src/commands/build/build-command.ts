/**
 * `tailorctl build`: Tailor's assembly run locally with no services, like
 * apko: an image YAML and APK repositories in, an OCI image layout out.
 */
import { readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { IndexEntry, Keyring } from "@tailor/apk";
import { ApkError, createKeyring } from "@tailor/apk";
import type { ApkKey, AssembledImage, BlobSink, PackageSource } from "@tailor/assembly";
import { AssemblyError, assembleImage } from "@tailor/assembly";
import type { Descriptor, Platform } from "@tailor/oci";
import {
  Annotation,
  createDirectoryLayoutFiles,
  createImageIndex,
  OciError,
  platformForApkArch,
  writeOciLayout,
} from "@tailor/oci";
import { formatInstallOutput, MAX_REPOSITORIES, solve, universeFromIndexes } from "@tailor/solver";
import { fileSource } from "../apk/file-source.js";
import { loadKeyring } from "../apk/keyring-files.js";
import type { CommandIo } from "../io.js";
import { UsageError } from "../io.js";
import { BuildError } from "./build-error.js";
import { createDiskLayerCache } from "./disk-layer-cache.js";
import type { ImageConfig } from "./image-config.js";
import { apkArch, ImageConfigError, parseImageConfig } from "./image-config.js";
import { createPackageCache } from "./package-cache.js";
import type { Repository, RepositoryIndex } from "./repository.js";
import {
  MissingIndexError,
  openRepositoryFile,
  parseRepository,
  readRepositoryIndex,
  repositoryFile,
} from "./repository.js";

/** Usage of `tailorctl build`. */
export const buildUsage = `usage: tailorctl build --config image.yaml [--repo DIR_OR_URL]... [--keys DIR] [--arch ARCH]...
                       --out OCI_LAYOUT_DIR [--tag TAG] [--cache DIR] [--json] [--verbose]

  Resolves contents.packages against the repositories (--repo, else contents.repositories),
  assembles one image per arch (--arch, else archs:, else x86_64) and writes an OCI layout:
  TAG (default latest) names the image index, TAG-<oci arch> (e.g. latest-amd64) each image.
  Indexes are verified with --keys DIR, else contents.keyring's local key files, else not at all.
  Packages and inspections are cached in --cache DIR (default $XDG_CACHE_HOME/tailor or ~/.cache/tailor).
  SOURCE_DATE_EPOCH sets the image time (default: the newest package build time).`;

/** Packages fetched at once. */
const FETCH_CONCURRENCY = 8;

interface BuildOptions {
  config: string;
  repos: string[];
  keys?: string;
  archs: string[];
  out: string;
  tag: string;
  cache: string;
  json: boolean;
  verbose: boolean;
}

/** One arch's image, as the summary and `--json` report it. */
interface ArchResult {
  arch: string;
  platform: Platform;
  ref: string;
  digest: string;
  image: AssembledImage;
  fetched: number;
  fetchedBytes: number;
}

/**
 * `tailorctl build …`: exit 0 with a summary (or `--json`), 1 with apk's
 * error report for an unsolvable world or one line naming the field,
 * package or file for bad input, 2 for wrong usage.
 */
export async function buildCommand(args: string[], io: CommandIo): Promise<number> {
  try {
    return await build(parseBuildArgs(args), io);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true
    ) {
      io.err(`tailorctl build: ${(error as Error).message}\n\n${buildUsage}`);
      return 2;
    }
    if (
      error instanceof BuildError ||
      error instanceof ApkError ||
      error instanceof AssemblyError ||
      error instanceof OciError
    ) {
      io.err(`tailorctl build: ${error.message}`);
      return 1;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR" || code === "ENOTDIR") {
      io.err(`tailorctl build: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}

function parseBuildArgs(args: string[]): BuildOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      repo: { type: "string", multiple: true },
      keys: { type: "string" },
      arch: { type: "string", multiple: true },
      out: { type: "string" },
      tag: { type: "string" },
      cache: { type: "string" },
      json: { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.config === undefined || values.config === "")
    throw new UsageError("--config image.yaml is required");
  if (values.out === undefined || values.out === "")
    throw new UsageError("--out OCI_LAYOUT_DIR is required");
  const tag = values.tag ?? "latest";
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
    throw new UsageError(
      `--tag "${tag}" is not a valid tag (letters, digits, '_', '.', '-'; at most 128)`,
    );
  }
  const archs = (values.arch ?? []).map((name) => {
    const arch = apkArch(name);
    if (arch === undefined)
      throw new UsageError(`--arch "${name}" is not an architecture Tailor builds`);
    return arch;
  });
  const xdg = process.env.XDG_CACHE_HOME;
  const defaultCache = path.join(
    xdg !== undefined && xdg !== "" ? xdg : path.join(os.homedir(), ".cache"),
    "tailor",
  );
  return {
    config: values.config,
    repos: values.repo ?? [],
    ...(values.keys === undefined ? {} : { keys: values.keys }),
    archs: [...new Set(archs)],
    out: values.out,
    tag,
    cache: values.cache ?? defaultCache,
    json: values.json === true,
    verbose: values.verbose === true,
  };
}

async function build(options: BuildOptions, io: CommandIo): Promise<number> {
  const started = performance.now();
  const warnings: string[] = [];
  const warn = (line: string) => {
    warnings.push(line);
    if (!options.json) io.err(line);
  };
  const verbose = (line: string) => {
    if (options.verbose && !options.json) io.err(line);
  };
  const configDir = path.dirname(path.resolve(options.config));
  let config: ImageConfig;
  try {
    config = parseImageConfig(await readFile(options.config, "utf8"));
  } catch (error) {
    if (error instanceof ImageConfigError)
      throw new BuildError(`${options.config}: ${error.message}`);
    throw error;
  }

  const repositoryLines = options.repos.length > 0 ? options.repos : config.repositories;
  if (repositoryLines.length === 0) {
    throw new UsageError("no repositories: pass --repo DIR_OR_URL or list contents.repositories");
  }
  if (repositoryLines.length > MAX_REPOSITORIES) {
    throw new UsageError(`at most ${MAX_REPOSITORIES} repositories`);
  }
  const repositories = uniqueNames(
    repositoryLines.map((line) =>
      parseRepository(line, options.repos.length > 0 ? process.cwd() : configDir),
    ),
  );
  const { keyring, keys } = await trustedKeys(options, config, configDir, warn);
  const archs =
    options.archs.length > 0 ? options.archs : config.archs.length > 0 ? config.archs : ["x86_64"];

  const packages = createPackageCache(path.join(options.cache, "apk"));
  const layerCache = createDiskLayerCache(path.join(options.cache, "layers"));
  const layout = createDirectoryLayoutFiles(options.out);
  const blobStats = { written: 0, writtenBytes: 0 };
  const blobs: BlobSink = {
    has: (digest) => layout.hasBlob(digest),
    put: async (digest, bytes, size) => {
      await layout.writeBlob(digest, bytes);
      blobStats.written++;
      blobStats.writtenBytes += size;
    },
  };
  const definition = {
    ...config.definition,
    ...(keys.length === 0 ? {} : { keys }),
    repositories: config.repositories,
  };
  const sourceDateEpoch = sourceDateEpochFromEnv();
  const imageName = path.basename(options.config).replace(/\.ya?ml$/i, "") || "image";

  const results: ArchResult[] = [];
  for (const arch of archs) {
    const indexes = await readIndexes(repositories, arch, keyring, warn);
    const universe = universeFromIndexes(
      indexes.map((index) => ({
        repository: index.repository.name,
        ...(index.repository.tag === undefined ? {} : { tag: index.repository.tag }),
        entries: index.entries,
      })),
    );
    const solved = solve(universe, { world: config.packages, arch });
    if (!solved.ok) {
      // apk's own report, as `apk add` prints it
      io.err(formatInstallOutput(solved));
      return 1;
    }
    for (const line of solved.warnings) warn(line);
    const byChecksum = new Map<string, { entry: IndexEntry; repository: Repository }>();
    for (const index of indexes) {
      for (const entry of index.entries) {
        if (!byChecksum.has(entry.checksum))
          byChecksum.set(entry.checksum, { entry, repository: index.repository });
      }
    }
    const closure = solved.packages.map((pkg) => {
      const found = byChecksum.get(pkg.checksum);
      if (found === undefined) throw new BuildError(`${pkg.name}-${pkg.version}: not in any index`);
      return { pkg, ...found };
    });
    const fetchStarted = performance.now();
    const fetched = await mapConcurrent(closure, FETCH_CONCURRENCY, ({ pkg, repository }) =>
      packages.ensure(
        pkg.checksum,
        `${pkg.name}-${pkg.version} from ${repository.name}`,
        repository.remote
          ? { open: () => openRepositoryFile(repository, `${arch}/${pkg.name}-${pkg.version}.apk`) }
          : { file: repositoryFile(repository, `${arch}/${pkg.name}-${pkg.version}.apk`) },
      ),
    );
    verbose(
      `[${arch}] fetch: ${fetched.filter((item) => item.fetched).length} of ${fetched.length} packages fetched in ${seconds(fetchStarted)} s`,
    );
    const sources = closure.map(({ pkg, entry, repository }, index): PackageSource => {
      const file = (fetched[index] as { file: string }).file;
      return {
        name: pkg.name,
        version: pkg.version,
        arch: pkg.arch,
        checksum: pkg.checksum,
        repository: repository.name,
        installedSize: entry.installedSize,
        pinned: true,
        ...(entry.origin === undefined ? {} : { origin: entry.origin }),
        ...(entry.license === "" ? {} : { license: entry.license }),
        ...(entry.description === "" ? {} : { description: entry.description }),
        ...(entry.url === "" ? {} : { url: entry.url }),
        ...(entry.buildTime === undefined ? {} : { buildTime: new Date(entry.buildTime * 1000) }),
        open: async () => fileSource(file),
      };
    });
    const assemblyStarted = performance.now();
    const image = await assembleImage(
      {
        arch,
        variant: "image",
        packages: sources,
        config: definition,
        imageName,
        ...(sourceDateEpoch === undefined ? {} : { sourceDateEpoch }),
      },
      {
        cache: layerCache,
        blobs,
        log: (step, text) => verbose(`[${arch}] ${step}: ${text}`),
      },
    );
    verbose(`[${arch}] assembled in ${seconds(assemblyStarted)} s`);
    const platform = platformForApkArch(arch);
    results.push({
      arch,
      platform,
      ref: `${options.tag}-${platformSuffix(platform)}`,
      digest: image.manifest.digest,
      image,
      fetched: fetched.filter((item) => item.fetched).length,
      fetchedBytes: fetched.reduce((sum, item) => sum + (item.fetched ? item.bytes : 0), 0),
    });
  }

  const index = createImageIndex({
    manifests: results.map((result) => ({
      ...descriptorOf(result.image.manifest),
      platform: result.platform,
    })),
  });
  await writeOciLayout(
    layout,
    {
      manifests: [
        ...(await otherRefs(
          options.out,
          new Set([options.tag, ...results.map((result) => result.ref)]),
        )),
        { ...index.descriptor, annotations: { [Annotation.refName]: options.tag } },
        ...results.map((result) => ({
          ...descriptorOf(result.image.manifest),
          platform: result.platform,
          annotations: { [Annotation.refName]: result.ref },
        })),
      ],
    },
    [{ descriptor: index.descriptor, source: index.bytes }],
  );
  const elapsed = (performance.now() - started) / 1000;

  if (options.json) {
    io.out(
      JSON.stringify(
        {
          ok: true,
          out: options.out,
          tag: options.tag,
          digest: index.descriptor.digest,
          images: results.map((result) => ({
            arch: result.arch,
            platform: result.platform,
            ref: result.ref,
            digest: result.digest,
            packages: result.image.packages,
            installedSize: result.image.installedSize,
            created: result.image.created.toISOString(),
            layers: result.image.layerSources,
            fetched: result.fetched,
          })),
          blobs: blobStats,
          seconds: Number(elapsed.toFixed(3)),
          warnings,
        },
        null,
        2,
      ),
    );
  } else {
    io.out(summary(options, results, index.descriptor.digest, blobStats, elapsed));
  }
  return 0;
}

/** The keys that verify indexes, and those written to `/etc/apk/keys`. */
async function trustedKeys(
  options: BuildOptions,
  config: ImageConfig,
  configDir: string,
  warn: (line: string) => void,
): Promise<{ keyring?: Keyring; keys: ApkKey[] }> {
  if (options.keys !== undefined) {
    const keyring = await loadKeyring(options.keys);
    return { keyring, keys: await keyFiles(options.keys) };
  }
  const keys: ApkKey[] = [];
  for (const [index, location] of config.keyring.entries()) {
    if (/^https?:\/\//i.test(location)) {
      warn(
        `WARNING: contents.keyring[${index}]: ${location} is not fetched; pass --keys DIR to verify with it`,
      );
      continue;
    }
    const file = path.resolve(configDir, location.replace(/^file:\/\//, ""));
    const pem = await readFile(file, "utf8").catch(() => undefined);
    if (pem === undefined || !pem.includes("-----BEGIN PUBLIC KEY-----")) {
      throw new BuildError(`contents.keyring[${index}]: ${file} is not a readable PEM public key`);
    }
    keys.push({ name: path.basename(file), pem });
  }
  if (keys.length === 0) {
    warn("WARNING: no keys (--keys DIR or contents.keyring): repository indexes are not verified");
    return { keys };
  }
  return { keyring: createKeyring(keys), keys };
}

async function keyFiles(dir: string): Promise<ApkKey[]> {
  const keys: ApkKey[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const pem = await readFile(path.join(dir, name), "utf8").catch(() => "");
    if (pem.includes("-----BEGIN PUBLIC KEY-----")) keys.push({ name, pem });
  }
  return keys;
}

/** Every repository's index for `arch`; a repository without one is left out with a warning, unless all are. */
async function readIndexes(
  repositories: readonly Repository[],
  arch: string,
  keyring: Keyring | undefined,
  warn: (line: string) => void,
): Promise<RepositoryIndex[]> {
  const indexes: RepositoryIndex[] = [];
  const missing: string[] = [];
  const read = await Promise.allSettled(
    repositories.map((repository) => readRepositoryIndex(repository, arch, keyring)),
  );
  for (const outcome of read) {
    if (outcome.status === "fulfilled") {
      indexes.push(outcome.value);
      for (const line of outcome.value.warnings) warn(line);
    } else if (outcome.reason instanceof MissingIndexError) {
      missing.push(outcome.reason.message);
    } else {
      throw outcome.reason;
    }
  }
  if (indexes.length === 0) throw new BuildError(missing.join("; "));
  for (const line of missing) warn(`WARNING: ${line}`);
  return indexes;
}

/** Repositories named twice get `#2`, `#3`: the solver needs unique names. */
function uniqueNames(repositories: Repository[]): Repository[] {
  const seen = new Map<string, number>();
  return repositories.map((repository) => {
    const count = (seen.get(repository.name) ?? 0) + 1;
    seen.set(repository.name, count);
    return count === 1 ? repository : { ...repository, name: `${repository.name}#${count}` };
  });
}

/** Entries of an existing `index.json` under other tags, kept so one layout can hold several images. */
async function otherRefs(
  out: string,
  replaced: ReadonlySet<string>,
): Promise<(Descriptor & { annotations?: Record<string, string> })[]> {
  let existing: { manifests?: (Descriptor & { annotations?: Record<string, string> })[] };
  try {
    existing = JSON.parse(await readFile(path.join(out, "index.json"), "utf8"));
  } catch {
    return [];
  }
  return (existing.manifests ?? []).filter((entry) => {
    const ref = entry.annotations?.[Annotation.refName];
    return ref !== undefined && !replaced.has(ref);
  });
}

function descriptorOf(descriptor: Descriptor): Descriptor {
  return { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
}

/** `amd64`, `arm64`, `arm-v7`: the per-arch tag suffix. */
function platformSuffix(platform: Platform): string {
  return platform.architecture === "arm" && platform.variant !== undefined
    ? `arm-${platform.variant}`
    : platform.architecture;
}

function sourceDateEpochFromEnv(): Date | undefined {
  const value = process.env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === "") return undefined;
  if (!/^\d+$/.test(value))
    throw new UsageError(`SOURCE_DATE_EPOCH "${value}" is not a number of seconds`);
  return new Date(Number(value) * 1000);
}

function summary(
  options: BuildOptions,
  results: readonly ArchResult[],
  digest: string,
  blobs: { written: number; writtenBytes: number },
  seconds: number,
): string {
  const lines: string[] = [];
  for (const result of results) {
    const kinds = { reused: 0, written: 0, generated: 0 };
    for (const layer of result.image.layerSources) kinds[layer.kind]++;
    lines.push(
      `${result.arch} (${result.ref}): ${result.image.packages.length} packages, ${megabytes(result.image.installedSize)} installed; ` +
        `${result.image.layers.length} layers: ${kinds.reused} package layers reused, ${kinds.written} merged, ${kinds.generated} generated; ` +
        `${result.fetched} packages fetched (${megabytes(result.fetchedBytes)})`,
    );
    lines.push(`  ${result.digest}`);
  }
  lines.push(
    `${blobs.written} blobs written (${megabytes(blobs.writtenBytes)}), the rest already in ${options.out}`,
  );
  lines.push(`${options.out}:${options.tag} ${digest} in ${seconds.toFixed(2)} s`);
  return lines.join("\n");
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(2);
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
