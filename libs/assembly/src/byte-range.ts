/** A range of a byte stream, checked against the digest it should have. */
import { createHash } from "node:crypto";
import { AssemblyError } from "./errors.js";

/**
 * Yields bytes `[offset, offset + length)` of `source`, then checks that they
 * hash to `sha256Hex`: a package read twice must be the same package.
 * @throws AssemblyError when the source is too short or the bytes differ.
 */
export async function* readByteRange(
  source: Uint8Array | AsyncIterable<Uint8Array>,
  offset: number,
  length: number,
  sha256Hex: string,
  what: string,
): AsyncGenerator<Uint8Array, void, undefined> {
  const hash = createHash("sha256");
  let position = 0;
  let taken = 0;
  const chunks = source instanceof Uint8Array ? [source] : source;
  for await (const chunk of chunks) {
    const start = Math.max(offset - position, 0);
    const end = Math.min(offset + length - position, chunk.length);
    position += chunk.length;
    if (end <= start) {
      if (position >= offset + length) break;
      continue;
    }
    const part = chunk.subarray(start, end);
    hash.update(part);
    taken += part.length;
    yield part;
    if (taken === length) break;
  }
  if (taken !== length) {
    throw new AssemblyError(`${what}: the source ended after ${taken} of ${length} bytes`);
  }
  const actual = hash.digest("hex");
  if (actual !== sha256Hex) {
    throw new AssemblyError(
      `${what}: bytes hash to sha256:${actual}, expected sha256:${sha256Hex}`,
    );
  }
}
