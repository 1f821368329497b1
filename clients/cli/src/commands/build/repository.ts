/**
 * APK repositories `tailorctl build` reads: a local directory or an http(s)
 * URL holding `<arch>/APKINDEX.tar.gz` and `<arch>/<name>-<version>.apk`.
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { IndexEntry, Keyring } from "@tailor/apk";
import { readApkIndexArchive } from "@tailor/apk";
import { BuildError } from "./build-error.js";

/** One repository as the user named it. */
export interface Repository {
  /** As given (`/srv/repo`, `https://packages.wolfi.dev/os`); the name in the solver and the SBOM. */
  readonly name: string;
  /** The directory (absolute) or URL (without a trailing `/`) the files are under. */
  readonly location: string;
  readonly remote: boolean;
  /** The repository tag packages need to be installed from it (`name@tag`), from an `@tag URL` line. */
  readonly tag?: string;
}

/** A repository's index for one arch. */
export interface RepositoryIndex {
  readonly repository: Repository;
  readonly entries: readonly IndexEntry[];
  /** Lines for the user: records apk would skip. */
  readonly warnings: readonly string[];
}

/**
 * A repository from a `--repo` argument or a `contents.repositories` line
 * (`@tag URL` allowed). Relative directories are taken from `baseDir`.
 */
export function parseRepository(line: string, baseDir: string): Repository {
  const match = /^@(\S+)\s+(\S+)$/.exec(line.trim());
  const tag = match?.[1];
  const where = match?.[2] ?? line.trim();
  const remote = /^https?:\/\//i.test(where);
  const location = remote
    ? where.replace(/\/+$/, "")
    : where.startsWith("file://")
      ? fileURLToPath(where)
      : path.resolve(baseDir, where);
  return { name: line.trim(), location, remote, ...(tag === undefined ? {} : { tag }) };
}

/** A repository has no index for an arch (HTTP 404, or no such file). */
export class MissingIndexError extends BuildError {
  override readonly name = "MissingIndexError";
}

/**
 * Reads and verifies `<arch>/APKINDEX.tar.gz`: with a keyring its signature
 * must verify with one of the keys, without one any signature is ignored.
 * @throws MissingIndexError when the repository has no index for `arch`;
 *   ApkError (e.g. UntrustedSignatureError) for a bad index.
 */
export async function readRepositoryIndex(
  repository: Repository,
  arch: string,
  keyring: Keyring | undefined,
): Promise<RepositoryIndex> {
  const where = repositoryFile(repository, `${arch}/APKINDEX.tar.gz`);
  let bytes: Uint8Array;
  try {
    bytes = await readRepositoryBytes(repository, `${arch}/APKINDEX.tar.gz`);
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === "ENOENT" ||
      (error as { status?: number }).status === 404
    ) {
      throw new MissingIndexError(
        `${where}: no index for ${arch} in repository ${repository.name}`,
      );
    }
    throw error;
  }
  const archive = await readApkIndexArchive(bytes, {
    file: where,
    ...(keyring === undefined ? {} : { keyring, requireSignature: true }),
  });
  return {
    repository,
    entries: archive.entries,
    warnings: archive.skipped.map(
      (record) => `WARNING: ${where}: ${record.reason} (line ${record.line}); record skipped`,
    ),
  };
}

/** The path or URL of a file of the repository. */
export function repositoryFile(repository: Repository, relative: string): string {
  return repository.remote
    ? `${repository.location}/${relative}`
    : path.join(repository.location, relative);
}

/** A file of the repository, whole. */
async function readRepositoryBytes(repository: Repository, relative: string): Promise<Uint8Array> {
  if (!repository.remote)
    return new Uint8Array(await readFile(repositoryFile(repository, relative)));
  const response = await fetchOk(repositoryFile(repository, relative));
  return new Uint8Array(await response.arrayBuffer());
}

/** A file of the repository, streamed. */
export async function openRepositoryFile(
  repository: Repository,
  relative: string,
): Promise<AsyncIterable<Uint8Array>> {
  if (!repository.remote) {
    return createReadStream(repositoryFile(repository, relative), { highWaterMark: 1 << 20 });
  }
  const response = await fetchOk(repositoryFile(repository, relative));
  if (response.body === null) return (async function* () {})();
  return Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
}

async function fetchOk(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: "follow" });
  } catch (cause) {
    throw new BuildError(`${url}: ${(cause as Error).message}`, { cause });
  }
  if (!response.ok) {
    const error = new BuildError(`${url}: HTTP ${response.status} ${response.statusText}`.trim());
    Object.assign(error, { status: response.status });
    throw error;
  }
  return response;
}
