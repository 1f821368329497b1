// Shared access to ../shared/fixtures/real for this package's tests: the
// directory, PROVENANCE.md's inventory rows, and the distribution keyring.
import fs from "node:fs";
import path from "node:path";
import { sharedFixturesDir } from "@tailor/testing";
import type { Keyring } from "../src/index.js";
import { createKeyring } from "../src/index.js";

/** The real fixtures directory, or undefined when ../shared is absent. */
export const fixturesDir = sharedFixturesDir();

/** One inventory row of PROVENANCE.md. */
export interface FixtureRow {
  readonly file: string;
  readonly cls: string;
  readonly what: string;
}

/** Every inventory row (file, class, description) of PROVENANCE.md. */
export function provenanceRows(): FixtureRow[] {
  if (fixturesDir === undefined) return [];
  const text = fs.readFileSync(path.join(fixturesDir, "PROVENANCE.md"), "utf8");
  const rows: FixtureRow[] = [];
  for (const line of text.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    // | file | origin path | commit | size | sha256 | class | what |
    if (cells.length < 9 || !/^`[^`]+`$/.test(cells[1] ?? "")) continue;
    const cls = cells[6] ?? "";
    if (!/^[A-Z][A-Z-]+$/.test(cls)) continue;
    rows.push({ file: (cells[1] ?? "").slice(1, -1), cls, what: cells[7] ?? "" });
  }
  return rows;
}

/** Absolute path of a fixture file. */
export function fixture(file: string): string {
  return path.join(fixturesDir ?? "", file);
}

/** Bytes of a fixture file. */
export function fixtureBytes(file: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(fixture(file)));
}

/** The 18 Alpine keys and the Wolfi production key, named as apk names them. */
export function distributionKeyring(): Keyring {
  const keys: { name: string; pem: string }[] = [];
  const alpine = fixture("alpine-keys");
  for (const name of fs.readdirSync(alpine).sort()) {
    keys.push({ name, pem: fs.readFileSync(path.join(alpine, name), "utf8") });
  }
  const wolfi = "wolfictl/pkg/dag/testdata/packages/wolfi-signing.rsa.pub";
  keys.push({ name: "wolfi-signing.rsa.pub", pem: fs.readFileSync(fixture(wolfi), "utf8") });
  return createKeyring(keys);
}
