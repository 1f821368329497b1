/**
 * CRC-32 (ISO 3309, the checksum of gzip trailers). Uses node:zlib's native
 * crc32 where the runtime has it (Node 20.15+, 22.2+) and a table-driven
 * fallback on older Node 20 releases the workspace still supports.
 */
import zlib from "node:zlib";

type Crc32 = (data: Uint8Array, previous?: number) => number;

const native = (zlib as { crc32?: Crc32 }).crc32;

let table: Uint32Array | undefined;

function crc32Table(): Uint32Array {
  if (table !== undefined) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 computed without node:zlib; exported so tests can compare it with the native one. */
export function crc32Portable(data: Uint8Array, previous = 0): number {
  const t = crc32Table();
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) {
    c = (t[(c ^ (data[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 of `data`, continuing from `previous` (the CRC of the bytes before it). */
export const crc32: Crc32 =
  native !== undefined ? (data, previous = 0) => native(data, previous) : crc32Portable;
