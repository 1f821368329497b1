/**
 * The fixed sample the golden, read-back and real-tool tests share: a small
 * root file system with every entry kind and the awkward cases (a path over
 * 100 bytes, a long symlink target, a non-ASCII name, setuid, a hard link,
 * non-root owners).
 */
import {
  createImageConfig,
  createImageManifest,
  type ImageConfigInput,
  type LayerEntry,
  MediaType,
  platformForApkArch,
} from "../src/index.js";

/** The build time of every sample entry and document. */
export const SAMPLE_TIME = new Date("2024-01-02T03:04:05Z");

/** A directory path deeper than the 100-byte ustar name field. */
export const LONG_DIR = `usr/share/${"long-directory-name-".repeat(6)}end`;
/** A file path over 100 bytes: needs a PAX `path` record. */
export const LONG_PATH = `${LONG_DIR}/a-file-with-a-long-path.txt`;
/** A symlink target over 100 bytes: needs a PAX `linkpath` record. */
export const LONG_TARGET = `../../${LONG_PATH}`;

const text = (value: string) => new TextEncoder().encode(value);

/**
 * The sample entries. `chunkSize` streams file contents as async chunks of
 * that many bytes instead of giving them whole, which must not change a byte.
 */
export function sampleEntries(chunkSize?: number): LayerEntry[] {
  const t = SAMPLE_TIME;
  const dir = (path: string, mode = 0o755): LayerEntry => ({
    path,
    type: "directory",
    mode,
    uid: 0,
    gid: 0,
    mtime: t,
  });
  const file = (path: string, content: string, more: Partial<LayerEntry> = {}): LayerEntry => {
    const bytes = text(content);
    const data =
      chunkSize === undefined
        ? bytes
        : (async function* () {
            for (let at = 0; at < bytes.length; at += chunkSize) {
              yield bytes.slice(at, at + chunkSize);
            }
          })();
    return {
      path,
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: t,
      size: bytes.length,
      data,
      ...more,
    };
  };
  return [
    dir("bin"),
    file("bin/hello", "#!/bin/sh\necho hello from tailor\n", { mode: 0o755 }),
    file("bin/su-helper", "setuid\n", { mode: 0o4755 }),
    { path: "bin/hi", type: "symlink", mode: 0o777, uid: 0, gid: 0, mtime: t, linkname: "hello" },
    dir("etc"),
    file("etc/os-release", 'ID=tailor\nNAME="Tailor"\n'),
    {
      path: "etc/release",
      type: "hardlink",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: t,
      linkname: "etc/os-release",
    },
    file("etc/crème-brûlée.conf", "dessert=yes\n"),
    dir("home"),
    {
      ...dir("home/app", 0o750),
      uid: 1000,
      gid: 1000,
      uname: "app",
      gname: "app",
    },
    file("home/app/data.bin", "\u0000\u0001binary\u00ff".repeat(300), {
      mode: 0o600,
      uid: 1000,
      gid: 1000,
      uname: "app",
      gname: "app",
    }),
    dir("tmp", 0o1777),
    dir("usr"),
    dir("usr/share"),
    dir(LONG_DIR),
    file(LONG_PATH, "deep\n"),
    {
      path: "usr/share/long-link",
      type: "symlink",
      mode: 0o777,
      uid: 0,
      gid: 0,
      mtime: t,
      linkname: LONG_TARGET,
    },
    file("usr/share/empty", ""),
  ];
}

/** The sample layer as written by {@link writeLayer} at the default level (checked with sha256sum, gzip and tar). */
export const SAMPLE_LAYER = {
  digest: "sha256:28c2f995fa4a57f82229e885fff0e6278b392da8fbfa02bb927701d4d541c861",
  diffId: "sha256:a386fd35381d73fdc36548c4806b9b091331dc4e28d5976fc288c0f0f7b6cc4f",
  size: 760,
  uncompressedSize: 19_968,
} as const;

/** The sample image's config input for an APK architecture, over the sample layer. */
export function sampleConfigInput(arch: string): ImageConfigInput {
  return {
    arch,
    created: SAMPLE_TIME,
    entrypoint: ["/bin/hello"],
    cmd: ["--greet"],
    env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
    user: "1000:1000",
    workingDir: "/home/app",
    labels: { "org.opencontainers.image.title": "sample", "dev.tailor.arch": arch },
    diffIds: [SAMPLE_LAYER.diffId],
    history: [
      { created: SAMPLE_TIME, createdBy: "tailor assemble", comment: "packages" },
      { created: SAMPLE_TIME, createdBy: "tailor config", emptyLayer: true },
    ],
  };
}

/** The config, manifest and platform descriptor of the sample image for one architecture. */
export function sampleImage(arch: string) {
  const config = createImageConfig(sampleConfigInput(arch));
  const manifest = createImageManifest({
    config: config.descriptor,
    layers: [
      { mediaType: MediaType.layerGzip, digest: SAMPLE_LAYER.digest, size: SAMPLE_LAYER.size },
    ],
    annotations: { "org.opencontainers.image.created": "2024-01-02T03:04:05Z" },
  });
  return {
    config,
    manifest,
    descriptor: { ...manifest.descriptor, platform: platformForApkArch(arch) },
  };
}
