// Synthetic images unpacked by umoci: merged and rewritten layers stack up
// the way apk would have installed the packages.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseInstalledDb } from "@tailor/apk";
import { createDirectoryLayoutFiles, withRefName, writeOciLayout } from "@tailor/oci";
import { afterAll, describe, expect, it } from "vitest";
import { assembleImage, type BlobSink, createMemoryLayerCache } from "../src/index.js";
import { buildPackage, sourceOf } from "./packages.js";

function hasUmoci(): boolean {
  try {
    execFileSync("which", ["umoci"], { stdio: "pipe" });
    return true;
  } catch {
    process.stderr.write("skipping umoci checks of synthetic images: umoci is not installed\n");
    return false;
  }
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tailor-assembly-umoci-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!hasUmoci())("umoci unpack of assembled images", () => {
  it("merged layers, a kept symlink and a rewritten layer give the tree apk would", async () => {
    const layout = await sourceOf(
      await buildPackage("layout", {
        files: [
          { path: "usr/lib", type: "directory" },
          { path: "lib", type: "symlink", linkTarget: "usr/lib" },
          { path: "etc/conf", type: "file", content: new TextEncoder().encode("layout\n") },
        ],
      }),
      { pinned: true },
    );
    const libfoo = await sourceOf(
      await buildPackage("libfoo", { files: { "lib/libfoo.so.1": "elf\n" } }),
      { pinned: true },
    );
    const tools = await sourceOf(
      await buildPackage("tools", {
        files: { "usr/bin/tool": "#!/bin/sh\n", "etc/conf": "tools\n" },
        replaces: ["layout"],
      }),
    );
    const extra = await sourceOf(
      await buildPackage("extra", { files: { "usr/bin/extra": "x\n" } }),
    );
    const dir = path.join(scratch, "layout");
    const files = createDirectoryLayoutFiles(dir);
    const blobs: BlobSink = {
      has: (digest) => files.hasBlob(digest),
      put: (digest, bytes) => files.writeBlob(digest, bytes),
    };
    const image = await assembleImage(
      { arch: "x86_64", variant: "dev", packages: [layout, libfoo, tools, extra], config: {} },
      { cache: createMemoryLayerCache(), blobs },
    );
    // base: layout + libfoo merged; added: tools + extra merged; top.
    expect(image.layerSources.map((layer) => [layer.kind, layer.packages.length])).toEqual([
      ["written", 2],
      ["written", 2],
      ["generated", 0],
    ]);
    await writeOciLayout(files, { manifests: [withRefName(image.manifest, "dev")] });
    const bundle = path.join(scratch, "bundle");
    execFileSync("umoci", ["unpack", "--rootless", "--image", `${dir}:dev`, bundle], {
      stdio: "pipe",
    });
    const rootfs = path.join(bundle, "rootfs");
    expect(fs.readlinkSync(path.join(rootfs, "lib"))).toBe("usr/lib");
    expect(fs.readFileSync(path.join(rootfs, "usr/lib/libfoo.so.1"), "utf8")).toBe("elf\n");
    expect(fs.readFileSync(path.join(rootfs, "etc/conf"), "utf8")).toBe("tools\n");
    const installed = parseInstalledDb(
      fs.readFileSync(path.join(rootfs, "lib/apk/db/installed"), "utf8"),
    );
    expect(installed.map((record) => record.name)).toEqual(["layout", "libfoo", "tools", "extra"]);
    expect(fs.readFileSync(path.join(rootfs, "etc/os-release"), "utf8")).toContain("ID=tailor");
  });
});
