import { parseInstalledDb } from "@tailor/apk";
import { describe, expect, it } from "vitest";
import {
  type AssembleInput,
  assembleImage,
  createMemoryBlobSink,
  createMemoryLayerCache,
  FileConflictError,
  type PackageSource,
} from "../src/index.js";
import { buildPackage, layerEntries, sourceOf } from "./packages.js";

function input(packages: PackageSource[], extra: Partial<AssembleInput> = {}): AssembleInput {
  return { arch: "x86_64", variant: "image", packages, config: {}, ...extra };
}

/** Assembles and returns each path's final content as the layers stack up (later wins). */
async function assembleAndFlatten(packages: PackageSource[], extra: Partial<AssembleInput> = {}) {
  const blobs = createMemoryBlobSink();
  const log: string[] = [];
  const image = await assembleImage(input(packages, extra), {
    cache: createMemoryLayerCache(),
    blobs,
    log: (step, text) => log.push(`${step}: ${text}`),
  });
  const tree = new Map<string, { type: string; content: string; linkTarget?: string }>();
  for (const layer of image.layers) {
    for (const { entry, content } of await layerEntries(
      blobs.blobs.get(layer.digest) as Uint8Array,
    )) {
      tree.set(entry.path, {
        type: entry.type,
        content: content.toString("utf8"),
        ...(entry.linkTarget === undefined ? {} : { linkTarget: entry.linkTarget }),
      });
    }
  }
  const installedEntry = tree.get("lib/apk/db/installed");
  const installed = parseInstalledDb(installedEntry?.content ?? "");
  return { image, tree, log, installed };
}

function ownersOf(installed: ReturnType<typeof parseInstalledDb>, path: string): string[] {
  const slash = path.lastIndexOf("/");
  const directory = path.slice(0, slash);
  const name = path.slice(slash + 1);
  return installed
    .filter((record) =>
      record.directories.some(
        (d) => d.path === directory && d.files.some((file) => file.name === name),
      ),
    )
    .map((record) => record.name);
}

describe("file conflicts", () => {
  it("fail with the path and both owners when apk would refuse", async () => {
    const first = await sourceOf(await buildPackage("first", { files: { "usr/bin/tool": "one" } }));
    const second = await sourceOf(
      await buildPackage("second", { files: { "usr/bin/tool": "two" } }),
    );
    const error = await assembleImage(input([first, second]), {
      cache: createMemoryLayerCache(),
      blobs: createMemoryBlobSink(),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FileConflictError);
    const conflict = error as FileConflictError;
    expect(conflict.path).toBe("usr/bin/tool");
    expect(conflict.owners).toEqual(["first-1.0-r0", "second-1.0-r0"]);
    expect(conflict.message).toBe(
      "/usr/bin/tool is installed by both first-1.0-r0 and second-1.0-r0: their contents differ, neither package replaces the other and their origins differ",
    );
  });

  it("name the base package first when an added package collides with it", async () => {
    const added = await sourceOf(await buildPackage("added", { files: { "etc/motd": "added" } }));
    const base = await sourceOf(await buildPackage("base", { files: { "etc/motd": "base" } }), {
      pinned: true,
    });
    const error = (await assembleImage(input([added, base]), {
      cache: createMemoryLayerCache(),
      blobs: createMemoryBlobSink(),
    }).catch((caught: unknown) => caught)) as FileConflictError;
    expect(error.owners).toEqual(["base-1.0-r0", "added-1.0-r0"]);
  });

  it("fail for a file over another package's directory", async () => {
    const dir = await sourceOf(await buildPackage("dir", { files: { "opt/app/x": "x" } }));
    const file = await sourceOf(await buildPackage("file", { files: { "opt/app": "x" } }));
    const error = (await assembleImage(input([dir, file]), {
      cache: createMemoryLayerCache(),
      blobs: createMemoryBlobSink(),
    }).catch((caught: unknown) => caught)) as FileConflictError;
    expect(error).toBeInstanceOf(FileConflictError);
    expect(error.path).toBe("opt/app");
    expect(error.reason).toMatch(/a file over a directory/);
  });

  it("allow identical content; shared directories are no conflict", async () => {
    const a = await sourceOf(
      await buildPackage("a", { files: { "usr/share/common/LICENSE": "MIT" } }),
    );
    const b = await sourceOf(
      await buildPackage("b", { files: { "usr/share/common/LICENSE": "MIT" } }),
    );
    const { tree, installed } = await assembleAndFlatten([a, b]);
    expect(tree.get("usr/share/common/LICENSE")?.content).toBe("MIT");
    expect(ownersOf(installed, "usr/share/common/LICENSE")).toEqual(["b"]);
  });

  it("allow replaces: the later package wins, and owns the file in the apk database", async () => {
    const old = await sourceOf(await buildPackage("busybox", { files: { "bin/sh": "busybox" } }));
    const bash = await sourceOf(
      await buildPackage("bash", { files: { "bin/sh": "bash" }, replaces: ["busybox"] }),
    );
    for (const mergeBelowBytes of [1, 1024 * 1024]) {
      const { tree, installed, image } = await assembleAndFlatten([old, bash], { mergeBelowBytes });
      expect(tree.get("bin/sh")?.content).toBe("bash");
      expect(ownersOf(installed, "bin/sh")).toEqual(["bash"]);
      // A package overwriting another's file never shares a merged layer with it.
      expect(image.layers).toHaveLength(3);
    }
  });

  it("allow same origin: the later package wins", async () => {
    const a = await sourceOf(
      await buildPackage("py3-foo", { origin: "py-foo", files: { "usr/lib/foo.py": "a" } }),
    );
    const b = await sourceOf(
      await buildPackage("py3-foo-extra", { origin: "py-foo", files: { "usr/lib/foo.py": "b" } }),
    );
    const { tree } = await assembleAndFlatten([a, b]);
    expect(tree.get("usr/lib/foo.py")?.content).toBe("b");
  });

  it("keep the earlier file when the earlier package replaces the later one, rewriting the later layer", async () => {
    const winner = await sourceOf(
      await buildPackage("winner", { files: { "etc/conf": "winner" }, replaces: ["loser"] }),
    );
    const loser = await sourceOf(
      await buildPackage("loser", { files: { "etc/conf": "loser", "usr/bin/loser": "bin" } }),
    );
    const { tree, installed, log, image } = await assembleAndFlatten([winner, loser], {
      mergeBelowBytes: 1,
    });
    expect(tree.get("etc/conf")?.content).toBe("winner");
    expect(tree.get("usr/bin/loser")?.content).toBe("bin");
    expect(ownersOf(installed, "etc/conf")).toEqual(["winner"]);
    expect(log.join("\n")).toContain(
      "conflicts: loser-1.0-r0: /etc/conf left out: winner-1.0-r0 replaces loser, so apk keeps its file",
    );
    expect(image.layerSources.map((layer) => layer.kind)).toEqual([
      "reused",
      "written",
      "generated",
    ]);
  });

  it("keep an earlier symlink where a later package has a directory", async () => {
    const layout = await sourceOf(
      await buildPackage("layout", {
        files: [
          { path: "usr/lib", type: "directory" },
          { path: "lib", type: "symlink", linkTarget: "usr/lib" },
        ],
      }),
    );
    const lib = await sourceOf(
      await buildPackage("libfoo", { files: { "lib/libfoo.so.1": "elf" } }),
    );
    const { tree, log } = await assembleAndFlatten([layout, lib], { mergeBelowBytes: 1 });
    expect(tree.get("lib")).toMatchObject({ type: "symlink", linkTarget: "usr/lib" });
    expect(tree.get("lib/libfoo.so.1")?.content).toBe("elf");
    expect(log.join("\n")).toContain(
      "libfoo-1.0-r0: /lib left out: layout-1.0-r0 makes it a symlink",
    );
  });
});
