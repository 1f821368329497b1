/** What a `Range` header asks of a blob of known size. */
export type ByteRangeRequest =
  /** No usable range: send the whole blob (200). */
  | { readonly kind: "full" }
  /** One range, `start`..`end` inclusive, within the blob (206). */
  | { readonly kind: "partial"; readonly start: number; readonly end: number }
  /** A bytes range that is malformed or lies outside the blob (416). */
  | { readonly kind: "unsatisfiable"; readonly reason: string };

const UNIT = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=(.*)$/;
const SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/;

/**
 * Reads a `Range` header (RFC 9110 §14) for a blob of `size` bytes. Only
 * single `bytes` ranges are served: other units and multi-range requests are
 * ignored (the whole blob is sent, as the RFC allows); a malformed bytes
 * range or one starting past the end is unsatisfiable.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRangeRequest {
  if (header === undefined || header.trim() === "") return { kind: "full" };
  const unit = UNIT.exec(header);
  if (unit === null) return unsatisfiable(`malformed Range header ${JSON.stringify(header)}`);
  if ((unit[1] ?? "").toLowerCase() !== "bytes") return { kind: "full" };
  const specs = (unit[2] ?? "").split(",").filter((spec) => spec.trim() !== "");
  if (specs.length === 0) return unsatisfiable("the Range header lists no range");
  if (specs.length > 1) return { kind: "full" };
  const spec = SPEC.exec(specs[0] ?? "");
  if (spec === null) return unsatisfiable(`malformed byte range ${JSON.stringify(specs[0])}`);
  const first = spec[1] ?? "";
  const last = spec[2] ?? "";
  if (first === "" && last === "") return unsatisfiable('the byte range "-" names no bytes');
  const firstPos = first === "" ? undefined : Number(first);
  const lastPos = last === "" ? undefined : Number(last);
  if (
    (firstPos !== undefined && !Number.isSafeInteger(firstPos)) ||
    (lastPos !== undefined && !Number.isSafeInteger(lastPos))
  ) {
    return unsatisfiable("the byte range's numbers are too large");
  }
  if (firstPos === undefined) {
    // A suffix range: the last `lastPos` bytes.
    if (lastPos === undefined || lastPos === 0 || size === 0) {
      return unsatisfiable(`the blob has ${size} bytes; a suffix of ${lastPos ?? 0} is empty`);
    }
    return { kind: "partial", start: Math.max(0, size - lastPos), end: size - 1 };
  }
  if (lastPos !== undefined && lastPos < firstPos) {
    return unsatisfiable(`the byte range ${firstPos}-${lastPos} ends before it starts`);
  }
  if (firstPos >= size) {
    return unsatisfiable(`the byte range starts at ${firstPos}, past the blob's ${size} bytes`);
  }
  return {
    kind: "partial",
    start: firstPos,
    end: lastPos === undefined ? size - 1 : Math.min(lastPos, size - 1),
  };
}

function unsatisfiable(reason: string): ByteRangeRequest {
  return { kind: "unsatisfiable", reason };
}
