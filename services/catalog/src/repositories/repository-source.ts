import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import {
  UpstreamFileMissingError,
  UpstreamFileTooLargeError,
  UpstreamUnavailableError,
} from "./errors.js";

/**
 * Longest time one download from an upstream repository (an APKINDEX or an
 * .apk) may take: 5 minutes, about 1.7 MiB/s for the largest package the
 * default TAILOR_CATALOG_MAX_PACKAGE_BYTES allows.
 */
export const UPSTREAM_FETCH_TIMEOUT_MS = 300_000;

/** Reads files of one upstream repository, over HTTP(S) or from a local directory. */
export interface RepositorySource {
  /** Where `path` lives, for messages: a URL or a file path. */
  locate(path: string): string;
  /**
   * Streams a repository-relative file (`x86_64/APKINDEX.tar.gz`), failing
   * with UpstreamFileTooLargeError as soon as it passes `maxBytes`.
   * @throws UpstreamFileMissingError, UpstreamUnavailableError
   */
  open(
    path: string,
    options: { maxBytes: number; signal?: AbortSignal | undefined },
  ): AsyncIterable<Uint8Array>;
  /** Reads a whole file into memory (indexes). */
  read(
    path: string,
    options: { maxBytes: number; signal?: AbortSignal | undefined },
  ): Promise<Uint8Array>;
}

/** Options of {@link openRepositorySource}. */
export interface RepositorySourceOptions {
  /** Longest time one download may take. */
  readonly timeoutMs: number;
}

/**
 * A source for a repository URL as stored (normalised, no trailing slash):
 * `http(s)://` through fetch with a timeout, `file:///…` and absolute paths
 * through the file system, never leaving the repository directory.
 */
export function openRepositorySource(
  url: string,
  options: RepositorySourceOptions,
): RepositorySource {
  const source: Pick<RepositorySource, "locate" | "open"> =
    url.startsWith("http://") || url.startsWith("https://")
      ? httpSource(url, options.timeoutMs)
      : directorySource(url.startsWith("file:") ? fileURLToPath(url) : url);
  return {
    ...source,
    async read(path, readOptions) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of source.open(path, readOptions)) chunks.push(chunk);
      return new Uint8Array(Buffer.concat(chunks));
    },
  };
}

/** Repository-relative path segments are encoded one by one, so `+` or `@` in names survive. */
function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}

function httpSource(base: string, timeoutMs: number): Pick<RepositorySource, "locate" | "open"> {
  const locate = (path: string) => `${base}/${encodePath(path)}`;
  return {
    locate,
    async *open(path, { maxBytes, signal }) {
      const location = locate(path);
      const timeout = AbortSignal.timeout(timeoutMs);
      const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
      let response: Response;
      try {
        response = await fetch(location, { signal: combined, redirect: "follow" });
      } catch (error) {
        signal?.throwIfAborted();
        if (timeout.aborted)
          throw new UpstreamUnavailableError(location, `no answer within ${timeoutMs} ms`, {
            cause: error,
          });
        throw new UpstreamUnavailableError(location, `request failed: ${describe(error)}`, {
          cause: error,
        });
      }
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel().catch(() => undefined);
        throw new UpstreamFileMissingError(location, `not found (HTTP ${response.status})`);
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        const detail = `HTTP ${response.status} ${response.statusText}`.trim();
        if (response.status >= 500 || response.status === 429)
          throw new UpstreamUnavailableError(location, detail);
        throw new UpstreamFileMissingError(location, `refused (${detail})`);
      }
      const declared = Number(response.headers.get("content-length") ?? Number.NaN);
      if (Number.isFinite(declared) && declared > maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw new UpstreamFileTooLargeError(location, maxBytes);
      }
      if (response.body === null) return;
      let total = 0;
      try {
        for await (const chunk of response.body) {
          total += chunk.byteLength;
          if (total > maxBytes) throw new UpstreamFileTooLargeError(location, maxBytes);
          yield chunk;
        }
      } catch (error) {
        if (error instanceof UpstreamFileTooLargeError) throw error;
        signal?.throwIfAborted();
        if (timeout.aborted)
          throw new UpstreamUnavailableError(
            location,
            `download took longer than ${timeoutMs} ms`,
            { cause: error },
          );
        throw new UpstreamUnavailableError(location, `download failed: ${describe(error)}`, {
          cause: error,
        });
      }
    },
  };
}

function directorySource(root: string): Pick<RepositorySource, "locate" | "open"> {
  const locate = (path: string) => join(root, ...path.split("/"));
  return {
    locate,
    async *open(path, { maxBytes, signal }) {
      const location = locate(path);
      let resolved: string;
      let size: number;
      try {
        // Symlinks inside the repository are fine (fixtures, mirrors); escaping it is not.
        const [realRoot, realFile] = await Promise.all([realpath(root), realpath(location)]);
        const inside = relative(realRoot, realFile);
        if (inside === "" || inside.startsWith(`..${sep}`) || inside === "..") {
          throw new UpstreamFileMissingError(location, "resolves outside the repository directory");
        }
        resolved = realFile;
        const info = await stat(resolved);
        if (!info.isFile()) throw new UpstreamFileMissingError(location, "is not a regular file");
        size = info.size;
      } catch (error) {
        if (error instanceof UpstreamFileMissingError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR")
          throw new UpstreamFileMissingError(location, "no such file", { cause: error });
        throw new UpstreamUnavailableError(location, `cannot read: ${describe(error)}`, {
          cause: error,
        });
      }
      if (size > maxBytes) throw new UpstreamFileTooLargeError(location, maxBytes);
      let total = 0;
      const stream = createReadStream(resolved, signal === undefined ? {} : { signal });
      try {
        for await (const chunk of stream) {
          const bytes = chunk as Buffer;
          total += bytes.byteLength;
          // The file may grow while it is read.
          if (total > maxBytes) throw new UpstreamFileTooLargeError(location, maxBytes);
          yield bytes;
        }
      } catch (error) {
        if (error instanceof UpstreamFileTooLargeError) throw error;
        signal?.throwIfAborted();
        throw new UpstreamUnavailableError(location, `cannot read: ${describe(error)}`, {
          cause: error,
        });
      } finally {
        stream.destroy();
      }
    },
  };
}
