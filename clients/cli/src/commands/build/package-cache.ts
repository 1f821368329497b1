/**
 * A content-addressed directory of `.apk` files, named by their `Q1`
 * checksum: a package is fetched once, checked against the index, and read
 * from here by every later build.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants, createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { readGzipMembers } from "@tailor/apk";
import { BuildError } from "./build-error.js";

/** Where fetched packages are kept. */
export interface PackageCache {
  /** The cached file of the package with this checksum (it may not exist yet). */
  file(checksum: string): string;
  /**
   * The cached file of the package, copied from a local `file` or fetched
   * with `open` when missing, and checked: its control member must hash to
   * `checksum`.
   * @returns the file and whether it was fetched now.
   * @throws BuildError when the fetched bytes are another package.
   */
  ensure(
    checksum: string,
    label: string,
    source: { file: string } | { open: () => Promise<AsyncIterable<Uint8Array>> },
  ): Promise<{ file: string; fetched: boolean; bytes: number }>;
}

/** A {@link PackageCache} in `dir` (created as needed). */
export function createPackageCache(dir: string): PackageCache {
  const file = (checksum: string) => path.join(dir, `${fileKey(checksum)}.apk`);
  return {
    file,
    async ensure(checksum, label, source) {
      const target = file(checksum);
      const present = await stat(target).catch(() => undefined);
      if (present?.isFile()) return { file: target, fetched: false, bytes: present.size };
      await mkdir(dir, { recursive: true });
      const temporary = `${target}.${randomBytes(6).toString("hex")}.tmp`;
      try {
        if ("file" in source) {
          // copy_file_range, or a reflink where the file system has them: no bytes through JS
          await copyFile(
            source.file,
            temporary,
            constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE,
          );
        } else {
          await pipeline(await source.open(), createWriteStream(temporary, { flags: "wx" }));
        }
        const actual = await packageChecksum(
          createReadStream(temporary, { highWaterMark: 1 << 16 }),
        );
        if (actual !== checksum) {
          throw new BuildError(
            `${label}: the fetched package has checksum ${actual ?? "(none: not an APK)"}, the index says ${checksum}`,
          );
        }
        await rename(temporary, target);
      } finally {
        await rm(temporary, { force: true });
      }
      return { file: target, fetched: true, bytes: (await stat(target)).size };
    },
  };
}

/** A checksum as a file name: base64 made URL-safe (`Q1abc/+=` → `Q1abc_-`). */
function fileKey(checksum: string): string {
  if (!/^Q1[A-Za-z0-9+/]{27}=$/.test(checksum)) {
    return `sha256-${createHash("sha256").update(checksum).digest("hex")}`;
  }
  return checksum.replace(/=+$/, "").replaceAll("/", "_").replaceAll("+", "-");
}

/**
 * The `Q1` checksum of a package: base64 SHA-1 of its control gzip member
 * (the first member, or the second when the first holds `.SIGN.*`). Only
 * the leading members are inflated.
 */
export async function packageChecksum(
  source: AsyncIterable<Uint8Array>,
): Promise<string | undefined> {
  let hash = createHash("sha1");
  let firstData: Uint8Array | undefined;
  for await (const event of readGzipMembers(source)) {
    if (event.type === "member-start") {
      hash = createHash("sha1");
    } else if (event.type === "compressed") {
      hash.update(event.bytes);
    } else if (event.type === "data") {
      if (firstData === undefined) firstData = event.bytes;
    } else {
      const index = event.member.index;
      const name = Buffer.from(firstData ?? new Uint8Array())
        .subarray(0, 100)
        .toString("latin1");
      if (index === 0 && name.startsWith(".SIGN.")) continue;
      return `Q1${hash.digest("base64")}`;
    }
  }
  return undefined;
}
