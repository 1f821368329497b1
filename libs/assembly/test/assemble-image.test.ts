import { parseInstalledDb, parseWorld, readPackage } from "@tailor/apk";
import { describe, expect, it } from "vitest";
import {
  type AssembleInput,
  assembleImage,
  createMemoryBlobSink,
  createMemoryLayerCache,
  type PackageSource,
} from "../src/index.js";
import { buildPackage, layerEntries, sha256, sourceOf } from "./packages.js";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function closure(): Promise<PackageSource[]> {
  const baselayout = await buildPackage("baselayout", {
    builddate: 1_700_000_100,
    files: {
      "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n",
      "etc/group": "root:x:0:root\nnobody:x:65534:\n",
      "etc/os-release": 'NAME="Base"\nID=base\n',
    },
  });
  const certs = await buildPackage("ca-certificates-bundle", {
    files: { "etc/ssl/certs/ca-certificates.crt": "-----BEGIN CERTIFICATE-----\nBASE\n" },
  });
  const app = await buildPackage("app", {
    version: "2.1-r3",
    builddate: 1_700_000_500,
    files: { "usr/bin/app": "#!/bin/sh\necho app\n", "usr/share/app/data.txt": "x".repeat(5000) },
  });
  return [
    await sourceOf(baselayout, { pinned: true }),
    await sourceOf(certs, { pinned: true }),
    await sourceOf(app),
  ];
}

function input(packages: PackageSource[], extra: Partial<AssembleInput> = {}): AssembleInput {
  return {
    arch: "x86_64",
    variant: "image",
    packages,
    config: {
      entrypoint: ["/usr/bin/app"],
      cmd: ["--serve"],
      workDir: "/home/app",
      env: { LANG: "C.UTF-8" },
      labels: { "org.example.team": "platform" },
      annotations: { "org.opencontainers.image.title": "app" },
      accounts: {
        users: [{ username: "app", uid: 10001 }],
        groups: [{ groupname: "app", gid: 10001, members: ["app"] }],
        runAs: "app",
      },
      certificates: ["-----BEGIN CERTIFICATE-----\nCUSTOMER\n-----END CERTIFICATE-----"],
      repositories: ["https://packages.example/acme/main"],
      keys: [{ name: "acme.rsa.pub", pem: "-----BEGIN PUBLIC KEY-----\nKEY\n" }],
      world: ["app"],
    },
    imageName: "acme/app",
    ...extra,
  };
}

describe("assembleImage", () => {
  it("reuses each package's data segment verbatim as its layer when merging is off", async () => {
    const packages = await closure();
    const blobs = createMemoryBlobSink();
    const image = await assembleImage(input(packages, { mergeBelowBytes: 1 }), {
      cache: createMemoryLayerCache(),
      blobs,
    });
    expect(image.layers).toHaveLength(4);
    for (const [index, source] of packages.entries()) {
      const bytes = (await source.open()) as Uint8Array;
      const pkg = await readPackage(bytes);
      const data = bytes.subarray(
        pkg.segments.data.offset,
        pkg.segments.data.offset + pkg.segments.data.length,
      );
      // The layer blob is the exact data segment, and its diff_id the tar's digest.
      expect(image.layers[index]?.digest).toBe(sha256(data));
      expect(Buffer.from(blobs.blobs.get(sha256(data)) ?? [])).toEqual(Buffer.from(data));
      const config = JSON.parse(decode(image.config.bytes));
      expect(config.rootfs.diff_ids[index]).toBe(`sha256:${pkg.segments.data.uncompressedSha256}`);
    }
    expect(image.layerSources.map((layer) => layer.kind)).toEqual([
      "reused",
      "reused",
      "reused",
      "generated",
    ]);
  });

  it("writes the config: entrypoint, cmd, env with a default PATH, user, work dir, labels, time", async () => {
    const image = await assembleImage(input(await closure()), {
      cache: createMemoryLayerCache(),
      blobs: createMemoryBlobSink(),
    });
    const config = JSON.parse(decode(image.config.bytes));
    expect(config.architecture).toBe("amd64");
    expect(config.os).toBe("linux");
    expect(config.config).toMatchObject({
      User: "app",
      Entrypoint: ["/usr/bin/app"],
      Cmd: ["--serve"],
      WorkingDir: "/home/app",
      Labels: { "org.example.team": "platform" },
    });
    expect(config.config.Env).toEqual([
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "LANG=C.UTF-8",
    ]);
    // Default SOURCE_DATE_EPOCH: the newest package build time (app's).
    expect(config.created).toBe("2023-11-14T22:21:40Z");
    expect(image.created.getTime()).toBe(1_700_000_500_000);
    const manifest = JSON.parse(decode(image.manifest.bytes));
    expect(manifest.annotations).toEqual({ "org.opencontainers.image.title": "app" });
    expect(manifest.layers.map((layer: { digest: string }) => layer.digest)).toEqual(
      image.layers.map((layer) => layer.digest),
    );
  });

  it("generates the top layer: apk database, world, arch, repositories, keys, accounts, CA bundle, SBOM", async () => {
    const packages = await closure();
    const blobs = createMemoryBlobSink();
    const image = await assembleImage(input(packages), { cache: createMemoryLayerCache(), blobs });
    const top = image.layers.at(-1);
    const entries = await layerEntries(blobs.blobs.get(top?.digest ?? "") as Uint8Array);
    const file = (path: string) => {
      const found = entries.find(({ entry }) => entry.path === path);
      if (found === undefined) throw new Error(`no ${path} in the top layer`);
      return found.content.toString("utf8");
    };

    const installed = parseInstalledDb(file("lib/apk/db/installed"));
    expect(installed.map((record) => `${record.name}-${record.version}`)).toEqual([
      "baselayout-1.0-r0",
      "ca-certificates-bundle-1.0-r0",
      "app-2.1-r3",
    ]);
    const app = installed.find((record) => record.name === "app");
    expect(app?.checksum).toBe(packages[2]?.checksum);
    expect(app?.directories.find((d) => d.path === "usr/bin")?.files.map((f) => f.name)).toEqual([
      "app",
    ]);
    expect(parseWorld(file("etc/apk/world")).map((atom) => atom.name)).toEqual(["app"]);
    expect(file("etc/apk/arch")).toBe("x86_64\n");
    expect(file("etc/apk/repositories")).toBe("https://packages.example/acme/main\n");
    expect(file("etc/apk/keys/acme.rsa.pub")).toContain("KEY");
    // The packaged passwd/group are kept and the accounts added.
    expect(file("etc/passwd")).toBe(
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\napp:x:10001:10001::/home/app:/sbin/nologin\n",
    );
    expect(file("etc/group")).toBe("root:x:0:root\nnobody:x:65534:\napp:x:10001:app\n");
    // The packaged os-release stays (no osRelease given): not in the top layer.
    expect(entries.some(({ entry }) => entry.path === "etc/os-release")).toBe(false);
    expect(file("etc/ssl/certs/ca-certificates.crt")).toBe(
      "-----BEGIN CERTIFICATE-----\nBASE\n-----BEGIN CERTIFICATE-----\nCUSTOMER\n-----END CERTIFICATE-----\n",
    );
    const home = entries.find(({ entry }) => entry.path === "home/app")?.entry;
    expect(home).toMatchObject({ type: "directory", uid: 10001, gid: 10001 });
    // The SBOM in the image is the SBOM returned.
    const sbomPath = "var/lib/db/sbom/tailor-acme-app-image.spdx.json";
    expect(file(sbomPath)).toBe(decode(image.sbom.bytes));
    for (const { entry } of entries) expect(entry.mtime).toBe(1_700_000_500);
  });

  it("writes an SPDX 2.3 SBOM naming every package with version, licence, checksums and purl", async () => {
    const packages = await closure();
    const image = await assembleImage(input(packages, { purlNamespace: "alpine" }), {
      cache: createMemoryLayerCache(),
      blobs: createMemoryBlobSink(),
    });
    const sbom = JSON.parse(decode(image.sbom.bytes));
    expect(sbom.spdxVersion).toBe("SPDX-2.3");
    expect(image.sbom.descriptor.mediaType).toBe("application/spdx+json");
    const app = sbom.packages.find((pkg: { name: string }) => pkg.name === "app");
    expect(app).toMatchObject({
      versionInfo: "2.1-r3",
      licenseDeclared: "MIT",
      externalRefs: [
        {
          referenceCategory: "PACKAGE-MANAGER",
          referenceType: "purl",
          referenceLocator: "pkg:apk/alpine/app@2.1-r3?arch=x86_64",
        },
      ],
    });
    const apk = (await packages[2]?.open()) as Uint8Array;
    expect(app.checksums).toContainEqual({
      algorithm: "SHA256",
      checksumValue: sha256(apk).slice(7),
    });
    expect(app.checksums).toContainEqual({
      algorithm: "SHA1",
      checksumValue: Buffer.from(packages[2]?.checksum.slice(2) ?? "", "base64").toString("hex"),
    });
    const contains = sbom.relationships.filter(
      (r: { relationshipType: string }) => r.relationshipType === "CONTAINS",
    );
    expect(contains).toHaveLength(3);
    expect(sbom.relationships[0]).toMatchObject({ relationshipType: "DESCRIBES" });
  });

  it("is deterministic, and a warm rebuild reads no package and uploads nothing new", async () => {
    const cache = createMemoryLayerCache();
    const packages = await closure();
    const first = await assembleImage(input(packages), { cache, blobs: createMemoryBlobSink() });
    const again = await assembleImage(input(await closure()), {
      cache: createMemoryLayerCache(),
      blobs: createMemoryBlobSink(),
    });
    expect(again.manifest.digest).toBe(first.manifest.digest);
    expect(Buffer.from(again.manifest.bytes)).toEqual(Buffer.from(first.manifest.bytes));

    const opened = packages.map((source) => (source as unknown as { opened: number }).opened);
    const blobs = createMemoryBlobSink();
    for (const digest of [...first.layers.slice(0, -1).map((layer) => layer.digest)]) {
      await blobs.put(digest, new Uint8Array(0), 0); // already stored
    }
    const warm = await assembleImage(input(packages), { cache, blobs });
    expect(warm.manifest.digest).toBe(first.manifest.digest);
    expect(packages.map((source) => (source as unknown as { opened: number }).opened)).toEqual(
      opened,
    );
  });

  it("streams packages given as chunks and checks the second read is the same package", async () => {
    const packages = await Promise.all(
      [await buildPackage("one"), await buildPackage("two")].map((bytes) =>
        sourceOf(bytes, { streamed: true }),
      ),
    );
    const image = await assembleImage(input(packages, { mergeBelowBytes: 1 }), {
      cache: createMemoryLayerCache(),
      blobs: createMemoryBlobSink(),
    });
    expect(image.layerSources.filter((layer) => layer.kind === "reused")).toHaveLength(2);

    let calls = 0;
    const bytes = await buildPackage("changing");
    const changing = await sourceOf(bytes);
    changing.open = async () => {
      calls++;
      if (calls === 1) return bytes;
      const copy = new Uint8Array(bytes);
      copy[copy.length - 10] = (copy[copy.length - 10] ?? 0) ^ 0xff;
      return copy;
    };
    await expect(
      assembleImage(input([changing], { mergeBelowBytes: 1 }), {
        cache: createMemoryLayerCache(),
        blobs: createMemoryBlobSink(),
      }),
    ).rejects.toThrow(/data of changing-1.0-r0: bytes hash to/);
  });

  it("writes a Tailor os-release when asked, or when no package has one", async () => {
    const blobs = createMemoryBlobSink();
    const image = await assembleImage(
      input([await sourceOf(await buildPackage("solo"))], {
        osRelease: { name: "Acme Linux", id: "acme", versionId: "1.2" },
      }),
      { cache: createMemoryLayerCache(), blobs },
    );
    const entries = await layerEntries(
      blobs.blobs.get(image.layers.at(-1)?.digest ?? "") as Uint8Array,
    );
    const release = entries.find(({ entry }) => entry.path === "etc/os-release");
    expect(release?.content.toString()).toBe(
      'NAME="Acme Linux"\nID=acme\nVERSION_ID=1.2\nPRETTY_NAME="Acme Linux 1.2"\n',
    );
    // No packaged passwd: root plus the accounts.
    expect(entries.find(({ entry }) => entry.path === "etc/passwd")?.content.toString()).toBe(
      "root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001::/home/app:/sbin/nologin\n",
    );
  });
});
