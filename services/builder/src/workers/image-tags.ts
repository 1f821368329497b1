/** Which tags a successful build moves. */

const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * Version tags of the source image's main package version, e.g. `3.12.7-r1`
 * → `3.12`, `3.12.7`, `3.12.7-r1`: every dotted prefix of two or more
 * components of the upstream version, the upstream version, and the full
 * version with its release. Strings that are not valid OCI tags are left out.
 */
export function versionTags(version: string): string[] {
  if (version === "") return [];
  const release = /^(.*)-r\d+$/.exec(version);
  const upstream = release?.[1] ?? version;
  const tags: string[] = [];
  const plain = /^\d+(\.\d+)*$/.test(upstream);
  if (plain) {
    const parts = upstream.split(".");
    for (let length = 2; length < parts.length; length++) {
      tags.push(parts.slice(0, length).join("."));
    }
  }
  tags.push(upstream);
  if (upstream !== version) tags.push(version);
  return [...new Set(tags)].filter((tag) => tagPattern.test(tag));
}

/** `YYYYMMDDHHMMSS` in UTC. */
export function compactTimestamp(time: Date): string {
  return time.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** The tag → digest pairs of a build. */
export function buildTags(input: {
  /** Index digest per variant. */
  imageDigest: string;
  devDigest: string;
  /** The main package version, "" when unknown. */
  version: string;
  /** Set when the organization has unique tags on: the build's creation time. */
  uniqueAt?: Date;
}): { name: string; digest: string }[] {
  const base = versionTags(input.version);
  const names = ["latest", ...base];
  if (input.uniqueAt !== undefined && input.version !== "") {
    const unique = `${input.version}-${compactTimestamp(input.uniqueAt)}`;
    if (tagPattern.test(unique)) names.push(unique);
  }
  const tags: { name: string; digest: string }[] = [];
  for (const name of names) tags.push({ name, digest: input.imageDigest });
  for (const name of names) {
    const dev = name === "latest" ? "latest-dev" : `${name}-dev`;
    if (tagPattern.test(dev)) tags.push({ name: dev, digest: input.devDigest });
  }
  return tags;
}
