import { describe, expect, it } from "vitest";
import {
  type AssembleInput,
  assembleImage,
  createMemoryBlobSink,
  createMemoryLayerCache,
  PackageRejectedError,
  type PackageSource,
} from "../src/index.js";
import { buildPackage, type RawEntry, rawPackage, sourceOf } from "./packages.js";

const text = (content: string) => new TextEncoder().encode(content);

function input(packages: PackageSource[], extra: Partial<AssembleInput> = {}): AssembleInput {
  return { arch: "x86_64", variant: "image", packages, config: {}, ...extra };
}

async function rejection(
  packages: PackageSource[],
  extra: Partial<AssembleInput> = {},
): Promise<PackageRejectedError> {
  const blobs = createMemoryBlobSink();
  const error = await assembleImage(input(packages, extra), {
    cache: createMemoryLayerCache(),
    blobs,
  }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PackageRejectedError);
  // Nothing of a rejected build is stored.
  expect(blobs.blobs.size).toBe(0);
  return error as PackageRejectedError;
}

const usr: RawEntry = { name: "usr/", type: "5" };
const file = (name: string, content = "data\n"): RawEntry => ({
  name,
  type: "0",
  content: text(content),
});

describe("hostile packages are rejected with the package and the entry named", () => {
  const cases: { name: string; entries: RawEntry[]; entry: string; reason: RegExp }[] = [
    {
      name: "a path climbing out with ..",
      entries: [usr, file("usr/../../etc/shadow")],
      entry: "usr/../../etc/shadow",
      reason: /climbs out with "\.\."/,
    },
    {
      name: "an absolute path",
      entries: [file("/etc/passwd")],
      entry: "/etc/passwd",
      reason: /absolute/,
    },
    {
      name: "an OCI whiteout",
      entries: [usr, file("usr/.wh.lib")],
      entry: "usr/.wh.lib",
      reason: /whiteout/,
    },
    {
      name: "an opaque-directory whiteout",
      entries: [usr, file("usr/.wh..wh..opq", "")],
      entry: "usr/.wh..wh..opq",
      reason: /whiteout/,
    },
    {
      name: "a character device",
      entries: [
        { name: "dev/", type: "5" },
        { name: "dev/mem", type: "3" },
      ],
      entry: "dev/mem",
      reason: /character-device/,
    },
    {
      name: "a FIFO",
      entries: [
        { name: "run/", type: "5" },
        { name: "run/pipe", type: "6" },
      ],
      entry: "run/pipe",
      reason: /fifo/,
    },
    {
      name: "a hard link to a later entry",
      entries: [usr, { name: "usr/a", type: "1", linkname: "usr/b" }, file("usr/b")],
      entry: "usr/a",
      reason: /not earlier in the archive/,
    },
    {
      name: "a hard link to a file of another package",
      entries: [usr, { name: "usr/link", type: "1", linkname: "usr/share/base/README" }],
      entry: "usr/link",
      reason: /not earlier in the archive/,
    },
    {
      name: "a hard link out of the root",
      entries: [usr, { name: "usr/link", type: "1", linkname: "../etc/shadow" }],
      entry: "usr/link",
      reason: /climbs out/,
    },
    {
      name: "a symlink escaping the root",
      entries: [usr, { name: "usr/up", type: "2", linkname: "../../etc" }],
      entry: "usr/up",
      reason: /escapes the root/,
    },
    {
      name: "a file written through an earlier symlink",
      entries: [{ name: "etc", type: "2", linkname: "/tmp" }, file("etc/passwd")],
      entry: "etc/passwd",
      reason: /goes through the symlink etc/,
    },
  ];
  for (const { name, entries, entry, reason } of cases) {
    it(name, async () => {
      const base = await sourceOf(await buildPackage("base"), { pinned: true });
      const { bytes, checksum } = rawPackage("hostile", entries);
      const hostile = await sourceOf(bytes, { name: "hostile", checksum });
      const error = await rejection([base, hostile]);
      expect(error.package).toBe("hostile-1.0-r0");
      expect(error.entry).toBe(entry);
      expect(error.reason).toMatch(reason);
      expect(error.message).toContain(`package hostile-1.0-r0 rejected: entry "${entry}"`);
    });
  }

  it("a file over the size limit", async () => {
    const big = await sourceOf(
      await buildPackage("big", { files: { "usr/lib/big.bin": "z".repeat(300_000) } }),
    );
    const error = await rejection([big], { limits: { maxFileBytes: 100_000 } });
    expect(error.entry).toBe("usr/lib/big.bin");
    expect(error.reason).toMatch(/300000 bytes is over the limit of 100000 \(maxFileBytes\)/);
  });

  it("data inflating past the package limit, also when the inspection is cached", async () => {
    const big = await sourceOf(
      await buildPackage("big", { files: { "usr/lib/big.bin": "z".repeat(300_000) } }),
    );
    const cache = createMemoryLayerCache();
    await assembleImage(input([big]), { cache, blobs: createMemoryBlobSink() });
    const error = await assembleImage(input([big], { limits: { maxPackageBytes: 200_000 } }), {
      cache,
      blobs: createMemoryBlobSink(),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PackageRejectedError);
    expect((error as PackageRejectedError).reason).toMatch(/maxPackageBytes/);
  });

  it("bytes that are not the package the resolver locked", async () => {
    const other = await sourceOf(await buildPackage("app"), {
      checksum: "Q1+3xkpNLIJ8GJ8pmtMbi0VT7oEho=",
    });
    const error = await rejection([other]);
    expect(error.entry).toBe(".PKGINFO");
    expect(error.reason).toMatch(/resolver locked Q1\+3xkpNLIJ8GJ8pmtMbi0VT7oEho=/);
  });

  it("data that does not match the datahash", async () => {
    const bytes = new Uint8Array(
      await buildPackage("app", { files: { "usr/x": "y".repeat(2000) } }),
    );
    const source = await sourceOf(bytes);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0x55;
    const error = await rejection([source]);
    expect(error.package).toBe("app-1.0-r0");
    expect(error.message).toMatch(/app-1.0-r0 rejected/);
  });

  it("a package for another architecture", async () => {
    const arm = await sourceOf(await buildPackage("armonly", { arch: "aarch64" }));
    const error = await rejection([arm]);
    expect(error.reason).toBe("built for aarch64, not x86_64");
  });
});
