/**
 * One gzip member with a header that depends on nothing but the level: no
 * file name, mtime 0 and the Unix OS byte, as `gzip -n` writes it. zlib picks
 * the OS byte from the build platform, so it is pinned here to keep package
 * and index bytes identical across machines.
 */
import { constants, gzipSync } from "node:zlib";

/** zlib's OS code for Unix, the value gzip writes on Linux. */
const OS_UNIX = 3;

/**
 * Compresses `bytes` into one gzip member with a fixed header.
 * @param level zlib level 0–9. @default 9 (what abuild uses)
 */
export function gzipDeterministic(bytes: Uint8Array, level = 9): Uint8Array {
  const member = new Uint8Array(
    gzipSync(bytes, { level, memLevel: 8, strategy: constants.Z_DEFAULT_STRATEGY }),
  );
  member[9] = OS_UNIX;
  return member;
}
