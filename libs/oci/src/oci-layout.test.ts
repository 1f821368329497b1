import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256Digest } from "./digest.js";
import { createDirectoryLayoutFiles } from "./directory-layout-files.js";
import { DigestMismatchError, InvalidDigestError, InvalidLayoutPathError } from "./errors.js";
import { MediaType } from "./media-type.js";
import { withRefName, writeOciLayout } from "./oci-layout.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("OCI image layout in a directory", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tailor-oci-layout-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes oci-layout, index.json with tags and the blobs under blobs/sha256", async () => {
    const manifest = bytes('{"schemaVersion":2}');
    const layer = [bytes("layer "), bytes("bytes")];
    const layerDigest = sha256Digest(bytes("layer bytes"));
    const descriptor = {
      mediaType: MediaType.imageManifest,
      digest: sha256Digest(manifest),
      size: manifest.length,
    };
    await writeOciLayout(
      createDirectoryLayoutFiles(dir),
      { manifests: [withRefName(descriptor, "latest")] },
      [
        { descriptor, source: manifest },
        {
          descriptor: { digest: layerDigest },
          source: (async function* () {
            yield* layer;
          })(),
        },
      ],
    );
    expect(await readFile(path.join(dir, "oci-layout"), "utf8")).toBe(
      '{"imageLayoutVersion":"1.0.0"}',
    );
    expect(await readFile(path.join(dir, "index.json"), "utf8")).toBe(
      `{"schemaVersion":2,"mediaType":"${MediaType.imageIndex}","manifests":[{"mediaType":"${MediaType.imageManifest}","digest":"${descriptor.digest}","size":19,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}`,
    );
    expect(await readFile(path.join(dir, "blobs/sha256", layerDigest.slice(7)), "utf8")).toBe(
      "layer bytes",
    );
    expect((await readdir(path.join(dir, "blobs/sha256"))).sort()).toEqual(
      [descriptor.digest.slice(7), layerDigest.slice(7)].sort(),
    );
  });

  it("does not open the source of a blob the layout already has", async () => {
    const files = createDirectoryLayoutFiles(dir);
    const blob = bytes("shared base layer");
    const digest = sha256Digest(blob);
    await files.writeBlob(digest, blob);
    let opened = false;
    await writeOciLayout(files, { manifests: [] }, [
      {
        descriptor: { digest },
        source: async () => {
          opened = true;
          return blob;
        },
      },
    ]);
    expect(opened).toBe(false);
    expect(await files.hasBlob(digest)).toBe(true);
    expect(await files.hasBlob(sha256Digest(bytes("other")))).toBe(false);
  });

  it("discards a blob whose content does not match its digest, leaving no file behind", async () => {
    const files = createDirectoryLayoutFiles(dir);
    const claimed = sha256Digest(bytes("expected"));
    const error = await files.writeBlob(claimed, bytes("something else")).catch((caught) => caught);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error).toMatchObject({
      expected: claimed,
      actual: sha256Digest(bytes("something else")),
    });
    expect(await readdir(path.join(dir, "blobs/sha256"))).toEqual([]);
  });

  it("refuses digests and paths that would escape the layout", async () => {
    const files = createDirectoryLayoutFiles(dir);
    await expect(files.writeBlob("sha256:../../etc/passwd", bytes("x"))).rejects.toThrow(
      InvalidDigestError,
    );
    await expect(files.hasBlob("md5:abc")).rejects.toThrow(InvalidDigestError);
    await expect(files.writeFile("../outside.json", bytes("{}"))).rejects.toThrow(
      InvalidLayoutPathError,
    );
    await expect(files.writeFile("/etc/passwd", bytes("{}"))).rejects.toThrow(
      InvalidLayoutPathError,
    );
  });
});
