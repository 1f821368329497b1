// Real APKs from ../shared/fixtures/real: their data segments become layers
// as they are, and umoci/skopeo (when installed) accept the resulting image.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { parseInstalledDb, readPackage } from "@tailor/apk";
import { createDirectoryLayoutFiles, withRefName, writeOciLayout } from "@tailor/oci";
import { describeWithFixtures } from "@tailor/testing";
import { afterAll, expect, it } from "vitest";
import {
  type AssembledImage,
  assembleImage,
  type BlobSink,
  createMemoryLayerCache,
  type PackageSource,
} from "../src/index.js";
import { sha256, sourceOf } from "./packages.js";

const X86_64 = [
  "go-apkutils/testdata/strace-5.17-r0.apk",
  "go-apkutils/testdata/curl-7.83.1-r1.apk",
  "apko-history-6c8dd7f/cli/testdata/packages/x86_64/tzdata-2023c-r0.apk",
  "melange/pkg/sca/testdata/bash-doc-5.2.37-r2.apk",
  "melange/pkg/sca/testdata/ruby3.2-base64-0.2.0-r2.apk",
];
const AARCH64 = [
  "apko/apk/testdata/alpine-316/alpine-baselayout-3.2.0-r23.apk",
  "apko-history-6c8dd7f/cli/testdata/packages/aarch64/tzdata-2023c-r0.apk",
  "wolfictl/pkg/checks/testdata/hello-wolfi-2.12-r1.apk",
  "melange/pkg/sca/testdata/libcap-2.69-r0.apk",
];

function which(tool: string): string | undefined {
  try {
    return execFileSync("which", [tool], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tailor-assembly-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describeWithFixtures("real packages", (fixtures) => {
  async function sources(files: string[], pinned: number): Promise<PackageSource[]> {
    return Promise.all(
      files.map(async (file, index) =>
        sourceOf(new Uint8Array(fs.readFileSync(path.join(fixtures, file))), {
          pinned: index < pinned,
        }),
      ),
    );
  }

  /** Assembles straight into an OCI layout directory (the layout is the blob sink) tagged `latest`. */
  async function assembleToLayout(
    arch: string,
    packages: PackageSource[],
    dir: string,
  ): Promise<AssembledImage> {
    const files = createDirectoryLayoutFiles(dir);
    const blobs: BlobSink = {
      has: (digest) => files.hasBlob(digest),
      put: (digest, bytes) => files.writeBlob(digest, bytes),
    };
    const image = await assembleImage(
      {
        arch,
        variant: "image",
        packages,
        config: {
          entrypoint: ["/bin/sh"],
          accounts: { users: [{ username: "nonroot", uid: 65532 }], runAs: "65532" },
          repositories: ["https://dl-cdn.alpinelinux.org/alpine/v3.16/main"],
        },
        imageName: `fixtures-${arch}`,
        mergeBelowBytes: 1,
      },
      { cache: createMemoryLayerCache(), blobs },
    );
    await writeOciLayout(files, { manifests: [withRefName(image.manifest, "latest")] });
    return image;
  }

  it("uses every real data segment verbatim: layer digest = sha256 of the segment's bytes", async () => {
    for (const [arch, list] of [
      ["x86_64", X86_64],
      ["aarch64", AARCH64],
    ] as const) {
      const packages = await sources(list, arch === "aarch64" ? 1 : 0);
      const dir = path.join(scratch, `layout-${arch}`);
      const image = await assembleToLayout(arch, packages, dir);
      // Base (pinned) packages come first in layer order.
      for (const source of packages) {
        const bytes = (await source.open()) as Uint8Array;
        const pkg = await readPackage(bytes);
        const { offset, length, members } = pkg.segments.data;
        const segment = bytes.subarray(offset, offset + length);
        const layer = image.packages.find((p) => p.name === source.name)?.layer;
        expect(layer).toBe(sha256(segment));
        const blob = fs.readFileSync(path.join(dir, "blobs/sha256", sha256(segment).slice(7)));
        expect(Buffer.compare(blob, segment)).toBe(0);
        // Several gzip members (tzdata) still inflate as one stream to the diff_id's tar.
        const tar = zlib.gunzipSync(blob);
        expect(sha256(tar)).toBe(`sha256:${pkg.segments.data.uncompressedSha256}`);
        if (source.name === "tzdata") {
          expect(members).toBeGreaterThan(1);
          if (which("tar") !== undefined) {
            // GNU tar reads the concatenated members as one archive, every entry listed.
            const listing = execFileSync("tar", ["--warning=no-unknown-keyword", "-tzf", "-"], {
              input: blob,
              encoding: "utf8",
            });
            expect(listing.trim().split("\n")).toHaveLength(pkg.entries.length);
          }
        }
      }
      expect(image.layerSources.filter((l) => l.kind === "reused")).toHaveLength(list.length);
    }
  });

  const umoci = which("umoci");
  const skopeo = which("skopeo");
  if (umoci === undefined) {
    process.stderr.write("skipping umoci unpack checks: umoci is not installed\n");
  }
  it.skipIf(umoci === undefined)(
    "umoci unpacks the image: package files present, hard links kept, apk database lists every package",
    async () => {
      const packages = await sources(AARCH64, 1);
      const dir = path.join(scratch, "umoci-aarch64");
      await assembleToLayout("aarch64", packages, dir);
      const bundle = path.join(scratch, "bundle-aarch64");
      execFileSync("umoci", ["unpack", "--rootless", "--image", `${dir}:latest`, bundle], {
        stdio: "pipe",
      });
      const rootfs = path.join(bundle, "rootfs");
      expect(fs.readFileSync(path.join(rootfs, "usr/bin/hello")).length).toBeGreaterThan(1000);
      const zone = fs.statSync(path.join(rootfs, "usr/share/zoneinfo/Europe/Paris"));
      expect(zone.isFile()).toBe(true);
      // tzdata's hard links survive: more than one name for one inode.
      const linked = fs
        .readdirSync(path.join(rootfs, "usr/share/zoneinfo"), { recursive: true })
        .map((name) => fs.lstatSync(path.join(rootfs, "usr/share/zoneinfo", String(name))))
        .filter((stat) => stat.isFile() && stat.nlink > 1);
      expect(linked.length).toBeGreaterThan(0);
      const installed = parseInstalledDb(
        fs.readFileSync(path.join(rootfs, "lib/apk/db/installed"), "utf8"),
      );
      expect(installed.map((record) => record.name).sort()).toEqual(
        packages.map((source) => source.name).sort(),
      );
      // alpine-baselayout 3.2.0 ships no passwd (alpine-baselayout-data does): root plus the account.
      expect(fs.readFileSync(path.join(rootfs, "etc/passwd"), "utf8")).toBe(
        "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n",
      );
      expect(fs.statSync(path.join(rootfs, "home/nonroot")).isDirectory()).toBe(true);
      expect(fs.readFileSync(path.join(rootfs, "etc/apk/arch"), "utf8")).toBe("aarch64\n");
      const config = JSON.parse(fs.readFileSync(path.join(bundle, "config.json"), "utf8"));
      expect(config.process.args).toEqual(["/bin/sh"]);
    },
  );

  if (skopeo === undefined)
    process.stderr.write("skipping skopeo checks: skopeo is not installed\n");
  it.skipIf(skopeo === undefined)(
    "skopeo reads the layout and copies it, verifying every blob digest",
    async () => {
      const packages = await sources(X86_64, 0);
      const dir = path.join(scratch, "skopeo-x86_64");
      const image = await assembleToLayout("x86_64", packages, dir);
      const inspected = JSON.parse(
        execFileSync("skopeo", ["inspect", `oci:${dir}:latest`], { encoding: "utf8" }),
      );
      expect(inspected.Architecture).toBe("amd64");
      expect(inspected.Layers).toEqual(image.layers.map((layer) => layer.digest));
      const copy = path.join(scratch, "skopeo-copy");
      execFileSync("skopeo", ["copy", `oci:${dir}:latest`, `oci:${copy}:latest`], {
        stdio: "pipe",
      });
      expect(fs.existsSync(path.join(copy, "blobs/sha256", image.manifest.digest.slice(7)))).toBe(
        true,
      );
    },
  );
});
