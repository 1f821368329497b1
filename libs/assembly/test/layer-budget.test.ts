import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type AssembleInput,
  assembleImage,
  createMemoryBlobSink,
  createMemoryLayerCache,
  InvalidAssemblyInputError,
  LayerBudgetError,
  type PackageSource,
} from "../src/index.js";
import { buildPackage, layerEntries, sourceOf } from "./packages.js";

function input(packages: PackageSource[], extra: Partial<AssembleInput> = {}): AssembleInput {
  return { arch: "x86_64", variant: "image", packages, config: {}, ...extra };
}

/** `count` packages named `<prefix>N`, sizes varying from a few hundred bytes to ~`maxBytes` (incompressible). */
async function packages(prefix: string, count: number, pinned: boolean, maxBytes = 40_000) {
  const out: PackageSource[] = [];
  for (let n = 0; n < count; n++) {
    const size = 200 + ((n * 7919) % maxBytes);
    const payload = randomBytes(size).toString("base64");
    const bytes = await buildPackage(`${prefix}${n}`, {
      files: { [`usr/share/${prefix}${n}/blob`]: payload },
    });
    out.push(await sourceOf(bytes, { pinned }));
  }
  return out;
}

describe("layer budget", () => {
  it("merges small packages so the image stays within the budget, every file kept", async () => {
    const base = await packages("base", 60, true);
    const blobs = createMemoryBlobSink();
    const image = await assembleImage(input(base, { layerBudget: 10, mergeBelowBytes: 1 }), {
      cache: createMemoryLayerCache(),
      blobs,
    });
    expect(image.layers.length).toBeLessThanOrEqual(10);
    const paths = new Set<string>();
    for (const layer of image.layers) {
      for (const { entry } of await layerEntries(blobs.blobs.get(layer.digest) as Uint8Array)) {
        paths.add(entry.path);
      }
    }
    for (let n = 0; n < 60; n++) expect(paths).toContain(`usr/share/base${n}/blob`);
    // Every package is in exactly one layer.
    expect(image.packages.every((pkg) => image.layers.some((l) => l.digest === pkg.layer))).toBe(
      true,
    );
  });

  it("never exceeds 127 layers, and refuses a budget out of range", async () => {
    const many = await packages("p", 140, false, 2000);
    const image = await assembleImage(input(many, { layerBudget: 127, mergeBelowBytes: 1 }), {
      cache: createMemoryLayerCache(),
      blobs: createMemoryBlobSink(),
    });
    expect(image.layers.length).toBeLessThanOrEqual(127);
    for (const layerBudget of [1, 128, 2.5]) {
      await expect(
        assembleImage(input(many.slice(0, 2), { layerBudget }), {
          cache: createMemoryLayerCache(),
          blobs: createMemoryBlobSink(),
        }),
      ).rejects.toBeInstanceOf(InvalidAssemblyInputError);
    }
  });

  it("keeps base and added packages in separate layers, and the base layers stable whatever is added", async () => {
    const base = await packages("base", 40, true);
    const cache = createMemoryLayerCache();
    const baseLayers = async (added: PackageSource[]) => {
      const image = await assembleImage(
        input([...base, ...added], { layerBudget: 12, mergeBelowBytes: 1 }),
        {
          cache,
          blobs: createMemoryBlobSink(),
        },
      );
      expect(image.layers.length).toBeLessThanOrEqual(12);
      const baseDigests = new Set(
        image.packages.filter((pkg) => pkg.name.startsWith("base")).map((pkg) => pkg.layer),
      );
      const addedDigests = new Set(
        image.packages.filter((pkg) => !pkg.name.startsWith("base")).map((pkg) => pkg.layer),
      );
      // No layer holds both a base package and an added one.
      for (const digest of addedDigests) expect(baseDigests.has(digest)).toBe(false);
      return image.layers.slice(0, baseDigests.size).map((layer) => layer.digest);
    };
    const alone = await baseLayers([]);
    const withThree = await baseLayers(await packages("extra", 3, false));
    const withMany = await baseLayers(await packages("more", 30, false));
    expect(withThree).toEqual(alone);
    expect(withMany).toEqual(alone);
  });

  it("fails with LayerBudgetError when packages that overwrite each other cannot fit", async () => {
    const chain: PackageSource[] = [];
    for (let n = 0; n < 4; n++) {
      const replaces = n === 0 ? [] : [`tool${n - 1}`];
      chain.push(
        await sourceOf(
          await buildPackage(`tool${n}`, { files: { "usr/bin/tool": `v${n}` }, replaces }),
        ),
      );
    }
    const error = await assembleImage(input(chain, { layerBudget: 3 }), {
      cache: createMemoryLayerCache(),
      blobs: createMemoryBlobSink(),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LayerBudgetError);
    expect((error as LayerBudgetError).message).toMatch(/the added packages need 4 layers/);
  });

  it("reuses merged layers from the cache on a rebuild", async () => {
    const base = await packages("base", 10, true, 3000);
    const cache = createMemoryLayerCache();
    const blobs = createMemoryBlobSink();
    const first = await assembleImage(input(base), { cache, blobs });
    const opened = base.map((source) => (source as unknown as { opened: number }).opened);
    const second = await assembleImage(input(base), { cache, blobs });
    expect(second.manifest.digest).toBe(first.manifest.digest);
    expect(base.map((source) => (source as unknown as { opened: number }).opened)).toEqual(opened);
    expect(cache.written).toBeGreaterThan(0);
  });
});
