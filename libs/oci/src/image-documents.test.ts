import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sampleConfigInput, sampleImage } from "../test/sample-image.js";
import { sha256Digest } from "./digest.js";
import { encodeJson } from "./encode-json.js";
import { InvalidDigestError, OciError, UnknownArchitectureError } from "./errors.js";
import { createImageConfig } from "./image-config.js";
import { createImageIndex } from "./image-index.js";
import { createImageManifest } from "./image-manifest.js";
import { MediaType } from "./media-type.js";
import { platformForApkArch } from "./platform.js";
import { formatOciTimestamp } from "./timestamp.js";

const golden = (name: string) =>
  readFileSync(new URL(`../testdata/${name}`, import.meta.url), "utf8").trimEnd();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function sampleIndex() {
  return createImageIndex({
    manifests: [sampleImage("x86_64").descriptor, sampleImage("aarch64").descriptor],
    annotations: { "org.opencontainers.image.version": "1.0.0" },
  });
}

describe("OCI documents", () => {
  it("writes the image config as compact JSON in the image spec's field order", () => {
    const { bytes, descriptor } = createImageConfig(sampleConfigInput("aarch64"));
    expect(text(bytes)).toBe(golden("sample-config-aarch64.golden"));
    expect(descriptor).toEqual({
      mediaType: MediaType.imageConfig,
      digest: sha256Digest(bytes),
      size: bytes.length,
    });
    expect(descriptor.digest).toBe(GOLDEN.configArm64);
  });

  it("writes the manifest and the two-arch index with golden bytes and digests", () => {
    const amd64 = sampleImage("x86_64");
    expect(text(amd64.manifest.bytes)).toBe(golden("sample-manifest-amd64.golden"));
    expect(amd64.manifest.descriptor).toEqual({
      mediaType: MediaType.imageManifest,
      digest: GOLDEN.manifestAmd64,
      size: amd64.manifest.bytes.length,
    });
    const index = sampleIndex();
    expect(text(index.bytes)).toBe(golden("sample-index.golden"));
    expect(index.descriptor.digest).toBe(GOLDEN.index);
  });

  it("gives the same bytes whatever order maps and descriptors were built in", () => {
    const input = sampleConfigInput("x86_64");
    const reordered = {
      ...input,
      labels: Object.fromEntries(Object.entries(input.labels ?? {}).reverse()),
    };
    expect(createImageConfig(reordered).bytes).toEqual(createImageConfig(input).bytes);
    const { descriptor } = sampleImage("x86_64");
    const shuffled = {
      platform: { variant: undefined, os: "linux", architecture: "amd64" } as never,
      size: descriptor.size,
      digest: descriptor.digest,
      mediaType: descriptor.mediaType,
      extra: "dropped",
    } as never;
    expect(createImageIndex({ manifests: [shuffled] }).bytes).toEqual(
      createImageIndex({
        manifests: [{ ...descriptor, platform: { architecture: "amd64", os: "linux" } }],
      }).bytes,
    );
  });

  it("writes an artifact manifest with subject and artifactType (an SBOM for an image)", () => {
    const image = sampleImage("x86_64");
    const sbom = new TextEncoder().encode('{"spdxVersion":"SPDX-2.3"}');
    const empty = new TextEncoder().encode("{}");
    const { bytes, descriptor } = createImageManifest({
      artifactType: MediaType.spdxJson,
      config: {
        mediaType: "application/vnd.oci.empty.v1+json",
        digest: sha256Digest(empty),
        size: 2,
      },
      layers: [{ mediaType: MediaType.spdxJson, digest: sha256Digest(sbom), size: sbom.length }],
      subject: image.manifest.descriptor,
    });
    const document = JSON.parse(text(bytes));
    expect(Object.keys(document)).toEqual([
      "schemaVersion",
      "mediaType",
      "artifactType",
      "config",
      "layers",
      "subject",
    ]);
    expect(document.subject.digest).toBe(image.manifest.descriptor.digest);
    expect(descriptor.artifactType).toBe(MediaType.spdxJson);
  });

  it("maps APK architectures to OCI platforms", () => {
    expect(
      Object.fromEntries(
        [
          "x86_64",
          "aarch64",
          "armv7",
          "armhf",
          "x86",
          "ppc64le",
          "s390x",
          "riscv64",
          "loongarch64",
          "amd64",
          "arm64",
        ].map((arch) => [arch, Object.values(platformForApkArch(arch)).join("/")]),
      ),
    ).toEqual({
      x86_64: "amd64/linux",
      aarch64: "arm64/linux/v8",
      armv7: "arm/linux/v7",
      armhf: "arm/linux/v6",
      x86: "386/linux",
      ppc64le: "ppc64le/linux",
      s390x: "s390x/linux",
      riscv64: "riscv64/linux",
      loongarch64: "loong64/linux",
      amd64: "amd64/linux",
      arm64: "arm64/linux/v8",
    });
    expect(() => platformForApkArch("mips64")).toThrow(UnknownArchitectureError);
    expect(() => platformForApkArch("toString")).toThrow(/"toString" has no OCI platform/);
  });

  it("writes times as RFC 3339 UTC seconds", () => {
    expect(formatOciTimestamp(new Date("2024-01-02T03:04:05.987+02:00"))).toBe(
      "2024-01-02T01:04:05Z",
    );
    expect(() => formatOciTimestamp(new Date("nope"))).toThrow(OciError);
  });

  it("refuses configs that would describe a broken image", () => {
    const input = sampleConfigInput("x86_64");
    expect(() => createImageConfig({ ...input, diffIds: ["sha256:abc"] })).toThrow(
      InvalidDigestError,
    );
    expect(() => createImageConfig({ ...input, history: [] })).toThrow(
      "history has 0 entries that make layers but rootfs has 1 diff_ids",
    );
    expect(() => createImageConfig({ ...input, env: ["NOVALUE"] })).toThrow(/not KEY=VALUE/);
    expect(() => createImageConfig({ ...input, created: new Date(Number.NaN) })).toThrow(
      "created is not a valid date",
    );
  });

  it("encodes JSON without whitespace and refuses values JSON cannot hold", () => {
    expect(text(encodeJson({ b: 1, a: [true, null, "x"] }))).toBe('{"b":1,"a":[true,null,"x"]}');
    expect(() => encodeJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => encodeJson(undefined)).toThrow(TypeError);
  });
});

/** Digests of the golden documents (bytes in testdata/, accepted by skopeo and umoci in test/oci-tools.test.ts). */
const GOLDEN = {
  configArm64: "sha256:6fdc0a8b9cb7095899c8447beefed5db53bf89d54972eff759c36a1a5be83dd9",
  manifestAmd64: "sha256:bb2673b45386a6ebd7a60f53a68f510b02a82c4dba2c4729aed6a5f0b9a3a461",
  index: "sha256:a5438268ca9c97d39c55bc3be79205cfed0bed940d7b8afbf97f78917505f564",
};
