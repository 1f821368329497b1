import { parseArgs } from "node:util";
import type { ApkPackage, PackageSegment } from "@tailor/apk";
import { readPackage } from "@tailor/apk";
import type { CommandIo } from "../io.js";
import { UsageError } from "../io.js";
import { fileSource } from "./file-source.js";
import { loadKeyring } from "./keyring-files.js";

/** Usage of `tailorctl apk inspect`. */
export const inspectUsage = "usage: tailorctl apk inspect [--keys DIR] [--json] FILE";

function segmentLine(name: string, segment: PackageSegment | undefined): string {
  if (segment === undefined) return `  ${name.padEnd(9)} (none)`;
  return (
    `  ${name.padEnd(9)} offset ${segment.offset} length ${segment.length} members ${segment.members}\n` +
    `            sha256 ${segment.sha256}\n` +
    `            uncompressed ${segment.uncompressedLength} bytes, sha256 ${segment.uncompressedSha256}`
  );
}

function describePackage(file: string, pkg: ApkPackage, keysGiven: boolean): string {
  const info = pkg.pkginfo;
  const lines = [
    `${file}`,
    `  name      ${info.pkgname}`,
    `  version   ${info.pkgver}`,
    `  arch      ${info.arch ?? "?"}`,
    `  checksum  ${pkg.checksum}`,
    `  size      ${info.size ?? pkg.installedSize} bytes installed`,
  ];
  for (const [key, value] of info.fields) {
    if (!["pkgname", "pkgver", "arch", "size"].includes(key))
      lines.push(`  ${key.padEnd(9)} ${value}`);
  }
  lines.push("segments:");
  lines.push(segmentLine("signature", pkg.segments.signature));
  lines.push(segmentLine("control", pkg.segments.control));
  lines.push(segmentLine("data", pkg.segments.data));
  const datahash =
    pkg.datahash.ok === undefined ? "not declared" : pkg.datahash.ok ? "OK" : "MISMATCH";
  lines.push(`datahash: ${datahash}`);
  if (pkg.signatures.length === 0) lines.push("signature: none");
  for (const signature of pkg.signatures) {
    const verdict = keysGiven ? signature.verdict.toUpperCase() : "not checked (no --keys)";
    lines.push(`signature: ${signature.algorithm} by ${signature.keyName}: ${verdict}`);
  }
  lines.push(`scripts: ${pkg.scripts.map((s) => s.name).join(" ") || "none"}`);
  lines.push(`files: ${pkg.entries.length} entries`);
  return lines.join("\n");
}

/** `tailorctl apk inspect`: fields, segments with offsets and hashes, signature verdicts. */
export async function inspectCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: "boolean" }, keys: { type: "string" } },
  });
  if (positionals.length !== 1) throw new UsageError("inspect takes one FILE");
  const file = positionals[0] ?? "";
  const keyring = values.keys === undefined ? undefined : await loadKeyring(values.keys);
  const pkg = await readPackage(fileSource(file), {
    file,
    ...(keyring === undefined ? {} : { keyring, requireSignature: false }),
  });
  if (values.json === true) {
    io.out(
      JSON.stringify(
        pkg,
        (_key, value: unknown) =>
          value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value,
        2,
      ),
    );
  } else {
    io.out(describePackage(file, pkg, keyring !== undefined));
  }
  return 0;
}
