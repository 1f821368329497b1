/** Deterministic JSON bytes for OCI documents. */

const encoder = new TextEncoder();

/**
 * `value` as compact UTF-8 JSON: no whitespace, object keys in insertion
 * order (the builder functions insert them in a fixed order), so equal
 * documents give equal bytes and equal digests.
 * @throws TypeError when `value` has no JSON form (undefined, a function) or holds a non-finite number.
 */
export function encodeJson(value: unknown): Uint8Array {
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === "number" && !Number.isFinite(item)) {
      throw new TypeError(`${item} has no JSON form`);
    }
    if (typeof item === "bigint") throw new TypeError("a bigint has no JSON form");
    return item;
  });
  if (text === undefined) throw new TypeError("the value has no JSON form");
  return encoder.encode(text);
}

/** A string-to-string map with its keys sorted (UTF-16 code unit order), so caller order never changes bytes. */
export function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) {
    const value = record[key];
    if (typeof value !== "string") throw new TypeError(`the value of "${key}" is not a string`);
    out[key] = value;
  }
  return out;
}
