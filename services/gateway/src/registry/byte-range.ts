/** What a `Range` header asks of a blob of known size. */
export type ByteRangeRequest =
  /** No range, or one to ignore (invalid, another unit, several ranges): send the whole blob (200). */
  | { readonly kind: "full" }
  /** One range, `start`..`end` inclusive, within the blob (206). */
  | { readonly kind: "partial"; readonly start: number; readonly end: number }
  /** A valid bytes range that selects nothing of the blob: it starts past the end (416). */
  | { readonly kind: "unsatisfiable"; readonly reason: string };

/** `bytes=<ranges>`: a token, "=", the range set (RFC 9110 §14.1). */
const UNIT = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=(.*)$/;
/** One int-range (`first-[last]`) or suffix-range (`-length`). */
const SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/;

/**
 * Reads a `Range` header (RFC 9110 §14) for a blob of `size` bytes. Only
 * single `bytes` ranges are served. As §14.2 asks, a header that is not a
 * valid range (malformed, a last position before the first, nothing named)
 * is ignored and the whole blob is sent, and so are other units and
 * multi-range requests (which the RFC lets a server ignore). Only a valid
 * range that selects no byte — one starting at or past the end, or an empty
 * suffix — is unsatisfiable (416).
 */
export function parseByteRange(header: string | undefined, size: number): ByteRangeRequest {
  if (header === undefined || header.trim() === "") return FULL;
  const unit = UNIT.exec(header);
  if (unit === null || (unit[1] ?? "").toLowerCase() !== "bytes") return FULL;
  const specs = (unit[2] ?? "").split(",").filter((spec) => spec.trim() !== "");
  if (specs.length !== 1) return FULL;
  const spec = SPEC.exec(specs[0] ?? "");
  if (spec === null) return FULL;
  const first = spec[1] ?? "";
  const last = spec[2] ?? "";
  if (first === "" && last === "") return FULL;
  // Digits only, so Number() never fails; a huge value only loses precision.
  const firstPos = first === "" ? undefined : Number(first);
  const lastPos = last === "" ? undefined : Number(last);

  if (firstPos === undefined) {
    // A suffix range: the last `lastPos` bytes, or all of a shorter blob.
    const length = lastPos ?? 0;
    if (length === 0) {
      return unsatisfiable(`the blob has ${size} bytes; a suffix of 0 bytes is empty`);
    }
    if (size === 0) return FULL; // the whole (empty) blob is the suffix; 206 cannot say so
    return { kind: "partial", start: Math.max(0, size - length), end: size - 1 };
  }
  if (lastPos !== undefined && lastPos < firstPos) return FULL; // invalid: ignored
  if (firstPos >= size) {
    return unsatisfiable(
      `the byte range starts at ${first.replace(/^0+(?=\d)/, "")}, past the blob's ${size} bytes`,
    );
  }
  return {
    kind: "partial",
    start: firstPos,
    end: lastPos === undefined ? size - 1 : Math.min(lastPos, size - 1),
  };
}

const FULL: ByteRangeRequest = { kind: "full" };

function unsatisfiable(reason: string): ByteRangeRequest {
  return { kind: "unsatisfiable", reason };
}
