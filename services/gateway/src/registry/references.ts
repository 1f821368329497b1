import { RegistryError, RegistryErrorCode } from "./registry-errors.js";

/** One path component of a repository name, as the OCI distribution spec allows it. */
const NAME_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
/** A tag, as the OCI distribution spec allows it. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** The only digests the blob store holds. */
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;
/** Anything shaped like `<algorithm>:<encoded>`. */
const ANY_DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Za-z0-9=_-]+$/;
/** Longest repository name (org and image); the spec suggests clients keep under 255. */
const MAX_NAME_LENGTH = 255;

/** A repository of the registry: `<org name>/<image>`, exactly two components. */
export interface RepositoryName {
  readonly org: string;
  readonly image: string;
  /** `<org>/<image>`, as the builder's RegistryService names repositories. */
  readonly full: string;
}

/**
 * Checks the two path components of a repository name.
 * @throws RegistryError 400 NAME_INVALID naming the bad component.
 */
export function repositoryName(org: string, image: string): RepositoryName {
  for (const [part, value] of [
    ["organization", org],
    ["image", image],
  ] as const) {
    if (!NAME_COMPONENT.test(value)) {
      throw new RegistryError(
        400,
        RegistryErrorCode.nameInvalid,
        `invalid repository name: the ${part} part ${JSON.stringify(value)} must be lowercase letters and digits, separated by ".", "_", "__" or "-"`,
        { name: `${org}/${image}` },
      );
    }
  }
  const full = `${org}/${image}`;
  if (full.length > MAX_NAME_LENGTH) {
    throw new RegistryError(
      400,
      RegistryErrorCode.nameInvalid,
      `invalid repository name: longer than ${MAX_NAME_LENGTH} characters`,
    );
  }
  return { org, image, full };
}

/** Whether `reference` is a digest (of any algorithm) rather than a tag. */
export function looksLikeDigest(reference: string): boolean {
  return reference.includes(":");
}

/**
 * Checks a digest of a manifest or blob reference.
 * @throws RegistryError 400 DIGEST_INVALID when it is malformed or not sha256.
 */
export function checkDigest(digest: string): string {
  if (SHA256_DIGEST.test(digest)) return digest;
  const message = ANY_DIGEST.test(digest)
    ? `unsupported digest ${JSON.stringify(digest)}: this registry stores sha256 digests only`
    : `invalid digest ${JSON.stringify(digest)}: expected sha256:<64 lowercase hex digits>`;
  throw new RegistryError(400, RegistryErrorCode.digestInvalid, message, { digest });
}

/**
 * Checks a tag.
 * @throws RegistryError 400 TAG_INVALID.
 */
export function checkTag(tag: string): string {
  if (TAG.test(tag)) return tag;
  throw new RegistryError(
    400,
    RegistryErrorCode.tagInvalid,
    `invalid tag ${JSON.stringify(tag)}: up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"`,
    { tag },
  );
}

/** Checks a manifest reference: a sha256 digest or a tag. */
export function checkReference(reference: string): string {
  return looksLikeDigest(reference) ? checkDigest(reference) : checkTag(reference);
}
