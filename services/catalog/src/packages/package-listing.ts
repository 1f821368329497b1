import { compareVersions } from "@tailor/apk";
import type { CatalogPackage } from "./package.js";

/** Newest first by apk version order; equal-ranking spellings fall back to text so the order is total. */
export function compareVersionsDescending(a: string, b: string): number {
  return compareVersions(b, a) || (a < b ? -1 : a > b ? 1 : 0);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Listing order of search results: name, repository, arch, then the highest version first. */
export function compareForListing(a: CatalogPackage, b: CatalogPackage): number {
  return (
    compareText(a.name, b.name) ||
    compareText(a.repository, b.repository) ||
    compareText(a.arch, b.arch) ||
    compareVersionsDescending(a.version, b.version)
  );
}

/** Order of ListPackageVersions: highest version first, then repository and arch. */
export function compareVersionsFirst(a: CatalogPackage, b: CatalogPackage): number {
  return (
    compareVersionsDescending(a.version, b.version) ||
    compareText(a.repository, b.repository) ||
    compareText(a.arch, b.arch)
  );
}

/**
 * Order of FindProviders for `wanted`: a package of that very name first
 * (apk installs it over virtual providers), then the highest
 * `provider_priority` (none counts as 0), then the highest version.
 */
export function compareProviders(wanted: string): (a: CatalogPackage, b: CatalogPackage) => number {
  return (a, b) =>
    Number(b.name === wanted) - Number(a.name === wanted) ||
    (b.providerPriority ?? 0) - (a.providerPriority ?? 0) ||
    compareVersionsDescending(a.version, b.version) ||
    compareText(a.name, b.name) ||
    compareText(a.repository, b.repository) ||
    compareText(a.arch, b.arch);
}

/** Keeps the highest version of each (repository, arch, name). */
export function newestVersions(packages: readonly CatalogPackage[]): CatalogPackage[] {
  const newest = new Map<string, CatalogPackage>();
  for (const pkg of packages) {
    const key = `${pkg.repository}\0${pkg.arch}\0${pkg.name}`;
    const current = newest.get(key);
    if (current === undefined || compareVersionsDescending(pkg.version, current.version) < 0)
      newest.set(key, pkg);
  }
  return [...newest.values()];
}

/** Where a page ends: the last package's position in listing order. */
interface PageCursor {
  readonly n: string;
  readonly r: string;
  readonly a: string;
  readonly v: string;
}

/** A page token is not one this service handed out. */
export class InvalidPageTokenError extends Error {
  override readonly name = "InvalidPageTokenError";
  constructor(readonly token: string) {
    super(
      `page token ${JSON.stringify(token.length > 40 ? `${token.slice(0, 40)}…` : token)} is invalid: pass the next_token of the previous page`,
    );
  }
}

function encodeCursor(pkg: CatalogPackage): string {
  const cursor: PageCursor = { n: pkg.name, r: pkg.repository, a: pkg.arch, v: pkg.version };
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(token: string): CatalogPackage {
  let cursor: Partial<PageCursor>;
  try {
    cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<PageCursor>;
  } catch {
    throw new InvalidPageTokenError(token);
  }
  const { n, r, a, v } = cursor ?? {};
  if (
    typeof n !== "string" ||
    typeof r !== "string" ||
    typeof a !== "string" ||
    typeof v !== "string"
  ) {
    throw new InvalidPageTokenError(token);
  }
  // Only the ordering fields matter for comparisons.
  return { name: n, repository: r, arch: a, version: v } as CatalogPackage;
}

/**
 * One page of packages sorted by {@link compareForListing}, starting after
 * the package the token names. Tokens name a position rather than an
 * offset, so packages added or removed between pages shift nothing.
 */
export function pageOf(
  sorted: readonly CatalogPackage[],
  token: string,
  size: number,
): { packages: CatalogPackage[]; nextToken: string } {
  let start = 0;
  if (token !== "") {
    const after = decodeCursor(token);
    start = sorted.findIndex((pkg) => compareForListing(pkg, after) > 0);
    if (start === -1) start = sorted.length;
  }
  const packages = sorted.slice(start, start + size);
  const last = packages.at(-1);
  const nextToken = start + size < sorted.length && last !== undefined ? encodeCursor(last) : "";
  return { packages, nextToken };
}
