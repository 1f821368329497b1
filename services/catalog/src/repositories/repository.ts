import { isAbsolute } from "node:path";
import type { Keyring } from "@tailor/apk";
import { ApkError, createKeyring } from "@tailor/apk";
import { InvalidFieldError } from "./errors.js";

/** Where a repository's packages come from. */
export type RepositoryKind = "upstream" | "hosted";

/** An RSA public key a repository's signatures may come from, named as apk names key files. */
export interface TrustedKey {
  readonly name: string;
  readonly pem: string;
}

/** An APK repository the catalog knows. */
export interface Repository {
  readonly name: string;
  readonly kind: RepositoryKind;
  /** Normalised URL without a trailing slash (`https://…`, `http://…`, `file:///…` or an absolute directory); "" when hosted. */
  readonly url: string;
  readonly arches: readonly string[];
  readonly trustedKeys: readonly TrustedKey[];
  /** Fetch every package's bytes at sync time instead of on first use. */
  readonly mirror: boolean;
  /** apk tag with its "@" (e.g. "@edge"), or "". */
  readonly tag: string;
  readonly createdAt: Date;
  readonly lastSyncedAt: Date | undefined;
}

/** The fields an administrator gives to create a repository. */
export interface RepositoryInput {
  readonly name: string;
  readonly kind: RepositoryKind | undefined;
  readonly url: string;
  readonly arches: readonly string[];
  readonly trustedKeys: readonly TrustedKey[];
  readonly mirror: boolean;
  readonly tag: string;
}

/** What a valid create request becomes. */
export type NewRepository = Omit<Repository, "createdAt" | "lastSyncedAt">;

const REPOSITORY_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62})$/;
const ARCH = /^[a-z0-9_]{1,32}$/;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9@._+-]{0,254}$/;
const TAG = /^@?[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * Arch name packages use when they run anywhere; it is never a repository
 * arch, but such packages may be published into any arch of a repository.
 */
export const NOARCH = "noarch";

/** Checks a repository name: 1 to 63 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit. */
export function validateRepositoryName(name: string, field = "name"): string {
  if (!REPOSITORY_NAME.test(name)) {
    throw new InvalidFieldError(
      field,
      `repository name ${JSON.stringify(name)} is invalid: use 1 to 63 lowercase letters, digits, "-", "_" and ".", starting with a letter or digit`,
    );
  }
  return name;
}

/** Validates a create request; throws InvalidFieldError naming the first bad field. */
export function validateNewRepository(input: RepositoryInput): NewRepository {
  const name = validateRepositoryName(input.name);
  if (input.kind === undefined) {
    throw new InvalidFieldError(
      "kind",
      "kind is required: REPOSITORY_KIND_UPSTREAM or REPOSITORY_KIND_HOSTED",
    );
  }
  const url = input.kind === "upstream" ? normaliseRepositoryUrl(input.url) : "";
  if (input.kind === "hosted" && input.url.trim() !== "") {
    throw new InvalidFieldError(
      "url",
      "a hosted repository has no url: its packages come from PublishPackage",
    );
  }
  if (input.kind === "hosted" && input.mirror) {
    throw new InvalidFieldError(
      "mirror",
      "mirror applies to upstream repositories only: a hosted repository always keeps its packages' bytes",
    );
  }
  return {
    name,
    kind: input.kind,
    url,
    arches: validateArches(input.arches),
    trustedKeys: validateTrustedKeys(input.trustedKeys),
    mirror: input.mirror,
    tag: validateTag(input.tag),
  };
}

/**
 * Checks and normalises an upstream URL: `https://` or `http://` with a host,
 * `file:///absolute/path`, or an absolute directory path. Trailing slashes
 * are dropped so `<url>/<arch>/APKINDEX.tar.gz` can be appended.
 */
export function normaliseRepositoryUrl(raw: string, field = "url"): string {
  const url = raw.trim();
  if (url === "") {
    throw new InvalidFieldError(
      field,
      "an upstream repository needs a url: https://, http://, file:/// or an absolute directory path",
    );
  }
  if (url.startsWith("/")) {
    if (!isAbsolute(url) || url.includes("\0")) {
      throw new InvalidFieldError(
        field,
        `url ${JSON.stringify(raw)} is not an absolute directory path`,
      );
    }
    return url.replace(/\/+$/, "") || "/";
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidFieldError(
      field,
      `url ${JSON.stringify(raw)} is not a URL: use https://, http://, file:/// or an absolute directory path`,
    );
  }
  if (parsed.protocol === "http:" || parsed.protocol === "https:") {
    if (parsed.hostname === "")
      throw new InvalidFieldError(field, `url ${JSON.stringify(raw)} has no host`);
    if (parsed.search !== "" || parsed.hash !== "") {
      throw new InvalidFieldError(
        field,
        `url ${JSON.stringify(raw)} must not have a query or fragment`,
      );
    }
    if (parsed.username !== "" || parsed.password !== "") {
      throw new InvalidFieldError(field, `url ${JSON.stringify(raw)} must not carry credentials`);
    }
    return parsed.toString().replace(/\/+$/, "");
  }
  if (parsed.protocol === "file:") {
    if (parsed.host !== "") {
      throw new InvalidFieldError(
        field,
        `url ${JSON.stringify(raw)} names a host; use file:///absolute/path`,
      );
    }
    return parsed.toString().replace(/\/+$/, "");
  }
  throw new InvalidFieldError(
    field,
    `url ${JSON.stringify(raw)} uses ${parsed.protocol.replace(/:$/, "")}; use https://, http://, file:/// or an absolute directory path`,
  );
}

/** Checks the arch list: at least one, each like `x86_64`, no repeats, never `noarch`. */
export function validateArches(arches: readonly string[], field = "arches"): string[] {
  if (arches.length === 0) {
    throw new InvalidFieldError(field, "at least one arch is required, e.g. x86_64 or aarch64");
  }
  const seen = new Set<string>();
  arches.forEach((arch, index) => {
    const at = `${field}[${index}]`;
    if (!ARCH.test(arch)) {
      throw new InvalidFieldError(
        at,
        `arch ${JSON.stringify(arch)} is invalid: use lowercase letters, digits and "_" (e.g. x86_64)`,
      );
    }
    if (arch === NOARCH) {
      throw new InvalidFieldError(
        at,
        `"${NOARCH}" is not a repository arch: noarch packages are listed under every arch`,
      );
    }
    if (seen.has(arch)) throw new InvalidFieldError(at, `arch "${arch}" is listed twice`);
    seen.add(arch);
  });
  return [...arches];
}

/**
 * Checks the trusted keys: at least one (indexes and uploads must be signed),
 * names like apk key files, PEM RSA public keys apk can use, no name twice.
 */
export function validateTrustedKeys(
  keys: readonly TrustedKey[],
  field = "trusted_keys",
): TrustedKey[] {
  if (keys.length === 0) {
    throw new InvalidFieldError(
      field,
      "at least one trusted key is required: every index and package must be signed by one (e.g. alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub)",
    );
  }
  const seen = new Set<string>();
  return keys.map((key, index) => {
    const name = key.name.trim();
    if (!KEY_NAME.test(name)) {
      throw new InvalidFieldError(
        `${field}[${index}].name`,
        `key name ${JSON.stringify(key.name)} is invalid: use the key's file name as apk knows it, e.g. "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"`,
      );
    }
    if (seen.has(name))
      throw new InvalidFieldError(`${field}[${index}].name`, `key "${name}" is listed twice`);
    seen.add(name);
    try {
      createKeyring([{ name, pem: key.pem }]);
    } catch (error) {
      const detail = error instanceof ApkError ? error.detail : String(error);
      throw new InvalidFieldError(`${field}[${index}].pem`, `key "${name}" ${detail}`, {
        cause: error,
      });
    }
    return { name, pem: key.pem };
  });
}

/** Checks an optional apk tag (`edge` or `@edge`) and returns it with its "@", or "". */
export function validateTag(tag: string, field = "tag"): string {
  const trimmed = tag.trim();
  if (trimmed === "") return "";
  if (!TAG.test(trimmed)) {
    throw new InvalidFieldError(
      field,
      `tag ${JSON.stringify(tag)} is invalid: use letters, digits, ".", "_" and "-", e.g. "@edge"`,
    );
  }
  return trimmed.startsWith("@") ? trimmed : `@${trimmed}`;
}

/** The keyring of a repository's trusted keys (already validated when stored). */
export function repositoryKeyring(repository: Pick<Repository, "trustedKeys">): Keyring {
  return createKeyring(repository.trustedKeys.map((key) => ({ name: key.name, pem: key.pem })));
}
