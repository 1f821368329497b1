import zlib from "node:zlib";
import { Readable } from "node:stream";
import { createHash } from "node:crypto";
import { it } from "vitest";
import { gzipMember, tarArchive, tarHeader, concatBytes } from "../../test/synthetic-archives.js";
import { readPackage } from "./package-reader.js";
import { readGzipMembers } from "../gzip/gzip-members.js";

function textBlock(): Buffer {
  const words = ["apk", "layer", "tar", "gzip", "musl", "busybox", "alpine", "wolfi", "oci", "sha256"];
  const parts: string[] = []; let state = 7; let length = 0;
  while (length < 1024 * 1024) { state = (Math.imul(state, 1103515245) + 12345) >>> 0; const w = `${words[state % words.length]}${(state >>> 8) % 1000} `; parts.push(w); length += w.length; }
  return Buffer.from(parts.join("").slice(0, 1024 * 1024));
}
it("bench", async () => {
  const block = textBlock();
  const files = 50; const FILE = 4 * 1024 * 1024;
  const tarParts: Uint8Array[] = [];
  for (let i = 0; i < files; i++) { tarParts.push(tarHeader({ name: `usr/share/blob/${i}.txt` }, FILE)); for (let w = 0; w < FILE; w += block.length) tarParts.push(block); }
  tarParts.push(new Uint8Array(1024));
  const tar = concatBytes(tarParts);
  const data = zlib.gzipSync(tar, { level: 6 });
  const dh = createHash("sha256").update(data).digest("hex");
  const control = gzipMember(tarArchive([{ name: ".PKGINFO", content: `pkgname = big\npkgver = 1-r0\ndatahash = ${dh}\n` }], { end: false }));
  const bytes = concatBytes([control, data]);
  console.log(`package: ${(bytes.length / 2**20).toFixed(1)} MiB compressed, ${(tar.length / 2**20).toFixed(1)} MiB tar`);
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    let n = 0;
    for await (const e of readGzipMembers(bytes)) if (e.type === "data") n += e.bytes.length;
    const g = (performance.now() - t) / 1000;
    t = performance.now();
    const pkg = await readPackage(bytes);
    const s = (performance.now() - t) / 1000;
    t = performance.now();
    await readPackage(bytes, { onEntry: async (_e, body) => { for await (const _c of body) {} } });
    const s2 = (performance.now() - t) / 1000;
    t = performance.now(); zlib.gunzipSync(data); const z = (performance.now() - t) / 1000;
    console.log(`round ${round}: readPackage ${s.toFixed(2)}s = ${(bytes.length/2**20/s).toFixed(0)} MiB/s compressed, ${(tar.length/2**20/s).toFixed(0)} MiB/s uncompressed; with onEntry bodies ${s2.toFixed(2)}s; gzip split only ${g.toFixed(2)}s; zlib.gunzipSync ${z.toFixed(2)}s ok=${pkg.datahash.ok}`);
  }
}, 300000);
