import { createHash } from "node:crypto";
import type { LockedConfig } from "../builds/build.js";

/** Media type of the provenance blob: an in-toto statement in JSON. */
export const PROVENANCE_MEDIA_TYPE = "application/vnd.in-toto+json";

/** The SLSA provenance predicate type the statement carries. */
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";

/** Tailor's build type: what the external parameters mean. */
export const TAILOR_BUILD_TYPE = "https://tailor.dev/build/custom-image/v1";

/** What a build was asked to do and what it produced. */
export interface ProvenanceInput {
  readonly buildId: string;
  readonly orgId: string;
  readonly repository: string;
  readonly customImage: string;
  readonly trigger: string;
  readonly locked: LockedConfig;
  /** Index digest per variant ("image", "dev"). */
  readonly subjects: Readonly<Record<string, string>>;
  readonly createdAt: Date;
}

function hexOf(digest: string): string {
  return digest.startsWith("sha256:") ? digest.slice("sha256:".length) : digest;
}

/** The apk identity checksum ("Q1" + base64 SHA-1) as a hex SHA-1, when it is one. */
function sha1OfChecksum(checksum: string): string | undefined {
  if (!checksum.startsWith("Q1")) return undefined;
  const bytes = Buffer.from(checksum.slice(2), "base64");
  return bytes.length === 20 ? bytes.toString("hex") : undefined;
}

/**
 * An in-toto v1 statement with a SLSA v1 provenance predicate for one build:
 * the images it produced (subjects), the request and locked config it was made
 * from (external parameters), every package of every closure (resolved
 * dependencies) and the builder's identity and version. Built only from the
 * build's own facts, so a redelivered job writes the same bytes.
 */
export function createBuildProvenance(input: ProvenanceInput): {
  bytes: Uint8Array;
  digest: string;
} {
  const dependencies = new Map<string, { uri: string; digest: Record<string, string> }>();
  for (const variant of input.locked.variants) {
    for (const pkg of variant.packages) {
      const uri = `pkg:apk/${encodeURIComponent(pkg.name)}@${encodeURIComponent(pkg.version)}?arch=${encodeURIComponent(pkg.arch)}&repository=${encodeURIComponent(pkg.repository)}`;
      const sha1 = sha1OfChecksum(pkg.checksum);
      dependencies.set(uri, { uri, digest: sha1 === undefined ? {} : { sha1 } });
    }
  }
  const statement = {
    _type: "https://in-toto.io/Statement/v1",
    subject: Object.entries(input.subjects)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([variant, digest]) => ({
        name: variant === "image" ? input.repository : `${input.repository}:${variant}`,
        digest: { sha256: hexOf(digest) },
      })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: TAILOR_BUILD_TYPE,
        externalParameters: {
          orgId: input.orgId,
          customImage: input.customImage,
          revision: input.locked.revision,
          trigger: input.trigger,
        },
        internalParameters: {
          sourceImage: input.locked.sourceImage,
          sourceImageGeneration: input.locked.sourceImageGeneration,
          sourceImageVersion: input.locked.sourceImageVersion,
          sourceDateEpoch: input.locked.sourceDateEpoch,
        },
        resolvedDependencies: [...dependencies.values()].sort((a, b) =>
          a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0,
        ),
      },
      runDetails: {
        builder: {
          id: "https://tailor.dev/builder",
          version: { tailor: input.locked.builderVersion },
        },
        metadata: { invocationId: input.buildId, startedOn: input.createdAt.toISOString() },
      },
    },
  };
  const bytes = new TextEncoder().encode(JSON.stringify(statement));
  return { bytes, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}` };
}
