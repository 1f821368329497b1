/**
 * The image's SBOM as an SPDX 2.3 JSON document: one package for the image
 * (what the document describes) that contains one package per APK, each with
 * its version, licence, checksums and `pkg:apk` purl. Deterministic: no
 * clock, no random ids; the namespace ends in a digest of the contents.
 */
import { createHash } from "node:crypto";

/** One APK as the SBOM lists it. */
export interface SbomPackage {
  name: string;
  version: string;
  arch: string;
  /** The APKINDEX `C:` (`Q1` + base64 SHA-1 of the control segment). */
  checksum: string;
  /** Hex SHA-256 of the `.apk` file. */
  apkSha256: string;
  license?: string;
  description?: string;
  url?: string;
  origin?: string;
  repository: string;
}

/** Input of {@link createSpdxSbom}. */
export interface SbomInput {
  /** Name of the image (e.g. `acme/python`) and of the document. */
  imageName: string;
  /** Image variant (`image` or `dev`). */
  variant: string;
  /** APK architecture. */
  arch: string;
  /** Creation time (the build's SOURCE_DATE_EPOCH). */
  created: Date;
  /** The packages, in install order. */
  packages: readonly SbomPackage[];
  /** purl namespace (`alpine`, `wolfi`, …): `pkg:apk/<namespace>/<name>@<version>?arch=<arch>`. */
  purlNamespace: string;
  /** Prefix of the `documentNamespace` URI. */
  documentNamespace: string;
  /** Name and version of the tool, for `creationInfo.creators`. */
  tool: string;
}

/** The SBOM as pretty-printed JSON bytes (the form written into the image). */
export function createSpdxSbom(input: SbomInput): Uint8Array {
  const imageId = "SPDXRef-Image";
  const ids = new Set<string>([imageId]);
  const packages = input.packages.map((pkg) => {
    let id = `SPDXRef-Package-${spdxIdPart(pkg.name)}-${spdxIdPart(pkg.version)}`;
    for (let n = 2; ids.has(id); n++) id = `${id}-${n}`;
    ids.add(id);
    return { id, pkg };
  });
  const contentDigest = createHash("sha256")
    .update(JSON.stringify([input.arch, input.variant, input.packages.map((p) => p.checksum)]))
    .digest("hex");
  const document = {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: `${input.imageName}-${input.variant}-${input.arch}`,
    documentNamespace: `${input.documentNamespace.replace(/\/+$/, "")}/${encodeURIComponent(input.imageName)}/${input.variant}/${input.arch}/${contentDigest}`,
    creationInfo: {
      created: `${input.created.toISOString().slice(0, 19)}Z`,
      creators: [`Tool: ${input.tool}`],
    },
    packages: [
      {
        name: input.imageName,
        SPDXID: imageId,
        versionInfo: input.variant,
        downloadLocation: "NOASSERTION",
        filesAnalyzed: false,
        licenseConcluded: "NOASSERTION",
        licenseDeclared: "NOASSERTION",
        copyrightText: "NOASSERTION",
        primaryPackagePurpose: "CONTAINER",
      },
      ...packages.map(({ id, pkg }) => {
        const entry: Record<string, unknown> = {
          name: pkg.name,
          SPDXID: id,
          versionInfo: pkg.version,
          supplier: "NOASSERTION",
          downloadLocation: "NOASSERTION",
          filesAnalyzed: false,
          checksums: [
            { algorithm: "SHA1", checksumValue: q1Hex(pkg.checksum) },
            { algorithm: "SHA256", checksumValue: pkg.apkSha256 },
          ].filter((checksum) => checksum.checksumValue !== ""),
          licenseConcluded: "NOASSERTION",
          licenseDeclared: spdxLicense(pkg.license),
          copyrightText: "NOASSERTION",
        };
        if (pkg.url !== undefined && pkg.url !== "") entry.homepage = pkg.url;
        if (pkg.origin !== undefined && pkg.origin !== "") {
          entry.sourceInfo = `built from the ${pkg.origin} source package`;
        }
        if (pkg.description !== undefined && pkg.description !== "") {
          entry.description = pkg.description;
        }
        entry.externalRefs = [
          {
            referenceCategory: "PACKAGE-MANAGER",
            referenceType: "purl",
            referenceLocator: purl(input.purlNamespace, pkg),
          },
        ];
        entry.primaryPackagePurpose = "LIBRARY";
        return entry;
      }),
    ],
    relationships: [
      {
        spdxElementId: "SPDXRef-DOCUMENT",
        relationshipType: "DESCRIBES",
        relatedSpdxElement: imageId,
      },
      ...packages.map(({ id }) => ({
        spdxElementId: imageId,
        relationshipType: "CONTAINS",
        relatedSpdxElement: id,
      })),
    ],
  };
  return new TextEncoder().encode(`${JSON.stringify(document, null, 2)}\n`);
}

/** `pkg:apk/<namespace>/<name>@<version>?arch=<arch>`, components percent-encoded as the purl spec asks. */
export function apkPurl(
  namespace: string,
  pkg: Pick<SbomPackage, "name" | "version" | "arch">,
): string {
  return purl(namespace, pkg);
}

function purl(namespace: string, pkg: Pick<SbomPackage, "name" | "version" | "arch">): string {
  const encode = (text: string) => encodeURIComponent(text);
  return `pkg:apk/${encode(namespace.toLowerCase())}/${encode(pkg.name)}@${encode(pkg.version)}?arch=${encode(pkg.arch)}`;
}

function q1Hex(checksum: string): string {
  if (!checksum.startsWith("Q1")) return "";
  const bytes = Buffer.from(checksum.slice(2), "base64");
  return bytes.length === 20 ? bytes.toString("hex") : "";
}

function spdxIdPart(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]/g, "-");
}

/**
 * The licence as an SPDX expression: identifiers kept, AND/OR/WITH and
 * parentheses kept, anything else turned into a `LicenseRef-`.
 */
function spdxLicense(license: string | undefined): string {
  if (license === undefined || license.trim() === "") return "NOASSERTION";
  const tokens = license
    .trim()
    .split(/(\s+|\(|\))/)
    .filter((token) => token.trim() !== "");
  return tokens
    .map((token) => {
      const upper = token.toUpperCase();
      if (upper === "AND" || upper === "OR" || upper === "WITH") return upper;
      if (token === "(" || token === ")") return token;
      if (/^[A-Za-z0-9][A-Za-z0-9.+-]*$/.test(token)) return token;
      return `LicenseRef-${token.replace(/[^A-Za-z0-9.-]/g, "-")}`;
    })
    .join(" ")
    .replace(/\( /g, "(")
    .replace(/ \)/g, ")");
}
