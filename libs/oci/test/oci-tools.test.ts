/**
 * The layouts this library writes, read by the real tools: skopeo (copies
 * and inspects OCI layouts with containers/image) and umoci (unpacks them
 * into a runtime bundle with Go's archive/tar). Skipped, with the reason
 * printed, where the tools are not installed.
 */
import { execFile, spawnSync } from "node:child_process";
import { lstat, mkdtemp, readFile, readlink, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Annotation,
  createDirectoryLayoutFiles,
  createImageIndex,
  type LayoutBlob,
  MediaType,
  withRefName,
  writeLayer,
  writeOciLayout,
} from "../src/index.js";
import {
  LONG_PATH,
  LONG_TARGET,
  SAMPLE_LAYER,
  sampleEntries,
  sampleImage,
} from "./sample-image.js";

const run = promisify(execFile);
const missing = (tool: string) => spawnSync("which", [tool]).status !== 0;
const noSkopeo = missing("skopeo");
const noUmoci = missing("umoci");
if (noSkopeo)
  console.warn("skipping skopeo tests: skopeo is not installed (apt-get install skopeo)");
if (noUmoci) console.warn("skipping umoci tests: umoci is not installed (apt-get install umoci)");

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe.skipIf(noSkopeo && noUmoci)("a two-arch OCI layout read by skopeo and umoci", () => {
  let work: string;
  let layout: string;
  const amd64 = sampleImage("x86_64");
  const arm64 = sampleImage("aarch64");
  const index = createImageIndex({
    manifests: [amd64.descriptor, arm64.descriptor],
    annotations: { [Annotation.version]: "1.0.0" },
  });

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "tailor-oci-tools-"));
    layout = path.join(work, "layout");
    const layerChunks: Uint8Array[] = [];
    const layer = await writeLayer(sampleEntries(), (chunk) => {
      layerChunks.push(chunk);
    });
    expect(layer).toEqual(SAMPLE_LAYER);
    const blob = (descriptor: { digest: string }, source: LayoutBlob["source"]): LayoutBlob => ({
      descriptor,
      source,
    });
    await writeOciLayout(
      createDirectoryLayoutFiles(layout),
      {
        // umoci 0.4 cannot pick a platform out of an index, so each arch gets a tag of its own too.
        manifests: [
          withRefName(index.descriptor, "1.0"),
          withRefName(amd64.manifest.descriptor, "1.0-amd64"),
          withRefName(arm64.manifest.descriptor, "1.0-arm64"),
        ],
      },
      [
        blob(
          layer,
          (async function* () {
            yield* layerChunks;
          })(),
        ),
        blob(amd64.config.descriptor, amd64.config.bytes),
        blob(arm64.config.descriptor, arm64.config.bytes),
        blob(amd64.manifest.descriptor, amd64.manifest.bytes),
        blob(arm64.manifest.descriptor, arm64.manifest.bytes),
        blob(index.descriptor, index.bytes),
      ],
    );
  });

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it.skipIf(noSkopeo)(
    "skopeo inspects the tag as the exact index bytes and each config",
    async () => {
      const { stdout } = await run("skopeo", ["inspect", "--raw", `oci:${layout}:1.0`]);
      expect(stdout.trim()).toBe(text(index.bytes));
      const config = await run("skopeo", [
        "inspect",
        "--config",
        "--raw",
        `oci:${layout}:1.0-arm64`,
      ]);
      expect(config.stdout.trim()).toBe(text(arm64.config.bytes));
      const summary = JSON.parse(
        (
          await run("skopeo", [
            "inspect",
            "--override-arch",
            "arm64",
            "--override-variant",
            "v8",
            `oci:${layout}:1.0`,
          ])
        ).stdout,
      );
      expect(summary).toMatchObject({
        Digest: index.descriptor.digest,
        Architecture: "arm64",
        Os: "linux",
        Created: "2024-01-02T03:04:05Z",
        Layers: [SAMPLE_LAYER.digest],
        Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
      });
    },
  );

  it.skipIf(noSkopeo)(
    "skopeo copies the whole index and a single platform without changing a digest",
    async () => {
      const all = path.join(work, "copy-all");
      await run("skopeo", ["copy", "--all", `oci:${layout}:1.0`, `oci:${all}:1.0`]);
      expect((await run("skopeo", ["inspect", "--raw", `oci:${all}:1.0`])).stdout.trim()).toBe(
        text(index.bytes),
      );
      expect(
        await readFile(path.join(all, "blobs/sha256", SAMPLE_LAYER.digest.slice(7))),
      ).toHaveLength(SAMPLE_LAYER.size);

      const one = path.join(work, "copy-arm64");
      await run("skopeo", [
        "copy",
        "--override-arch",
        "arm64",
        "--override-variant",
        "v8",
        `oci:${layout}:1.0`,
        `oci:${one}:1.0`,
      ]);
      expect((await run("skopeo", ["inspect", "--raw", `oci:${one}:1.0`])).stdout.trim()).toBe(
        text(arm64.manifest.bytes),
      );
    },
  );

  it.skipIf(noUmoci)("umoci unpacks the files, links, modes and runtime config", async () => {
    const bundle = path.join(work, "bundle");
    await run("umoci", ["unpack", "--rootless", "--image", `${layout}:1.0-amd64`, bundle]);
    const rootfs = path.join(bundle, "rootfs");
    const file = (name: string) => readFile(path.join(rootfs, name), "utf8");
    const mode = async (name: string) =>
      ((await lstat(path.join(rootfs, name))).mode & 0o7777).toString(8);

    expect(await file("bin/hello")).toBe("#!/bin/sh\necho hello from tailor\n");
    expect(await mode("bin/hello")).toBe("755");
    expect(await file("etc/os-release")).toBe('ID=tailor\nNAME="Tailor"\n');
    expect(await mode("etc/os-release")).toBe("644");
    expect(await file("etc/crème-brûlée.conf")).toBe("dessert=yes\n");
    expect(await file(LONG_PATH)).toBe("deep\n");
    expect(await file("usr/share/empty")).toBe("");
    expect(await mode("home/app/data.bin")).toBe("600");
    expect(await mode("home/app")).toBe("750");
    expect(await mode("tmp")).toBe("1777");
    expect(await mode("bin/su-helper")).toBe("4755");

    expect(await readlink(path.join(rootfs, "bin/hi"))).toBe("hello");
    expect(await readlink(path.join(rootfs, "usr/share/long-link"))).toBe(LONG_TARGET);
    expect(await file("usr/share/long-link")).toBe("deep\n");
    const [release, osRelease] = await Promise.all([
      stat(path.join(rootfs, "etc/release")),
      stat(path.join(rootfs, "etc/os-release")),
    ]);
    expect(release.ino).toBe(osRelease.ino); // a hard link, not a copy
    expect(Math.floor((await lstat(path.join(rootfs, "bin/hello"))).mtimeMs / 1000)).toBe(
      1704164645,
    );

    const runtime = JSON.parse(await readFile(path.join(bundle, "config.json"), "utf8"));
    expect(runtime.process).toMatchObject({
      args: ["/bin/hello", "--greet"],
      cwd: "/home/app",
    });
    expect(runtime.process.env).toEqual(
      expect.arrayContaining(["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]),
    );
    expect(runtime.annotations).toMatchObject({
      [Annotation.created]: "2024-01-02T03:04:05Z",
      "org.opencontainers.image.architecture": "amd64",
    });
    expect(MediaType.layerGzip).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
  });
});
