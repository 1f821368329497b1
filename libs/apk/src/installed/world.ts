/**
 * `/etc/apk/world`: the dependency atoms the user asked for, one a line.
 * apk-tools keeps it sorted by name and ends it with a newline.
 */

import type { ApkErrorLocation } from "../errors.js";
import { AtomError } from "../errors.js";
import type { Atom } from "../version/atom.js";
import { formatAtom, parseAtom } from "../version/atom.js";

/** Options of {@link parseWorld}. */
export interface ParseWorldOptions {
  /** Name of the world file, for messages. */
  readonly file?: string;
}

/**
 * Parses a world file: atoms separated by spaces or newlines (tags like
 * `foo@edge` allowed, as only the world file allows them).
 * @throws AtomError naming the file, line and atom that does not parse.
 */
export function parseWorld(text: string, options: ParseWorldOptions = {}): Atom[] {
  const atoms: Atom[] = [];
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    for (const word of (lines[index] ?? "").split(/[ \t\r]+/)) {
      if (word === "") continue;
      const location: ApkErrorLocation = {
        ...(options.file === undefined ? {} : { file: options.file }),
        line: index + 1,
      };
      atoms.push(parseAtom(word, location));
    }
  }
  return atoms;
}

/**
 * World file text for `atoms` as apk-tools writes it: one atom a line,
 * sorted by package name (byte order; stable for equal names), exact
 * duplicates dropped, and a final newline (a lone newline when empty).
 * Strings are parsed first, so a bad atom is refused rather than written.
 * @throws AtomError for an atom that does not parse or cannot be written.
 */
export function formatWorld(atoms: Iterable<Atom | string>): string {
  const parsed = [...atoms].map((atom) => (typeof atom === "string" ? parseAtom(atom) : atom));
  const lines = parsed
    .map((atom) => ({ name: Buffer.from(atom.name, "utf8"), text: formatAtom(atom) }))
    .sort((a, b) => Buffer.compare(a.name, b.name));
  const seen = new Set<string>();
  const unique: string[] = [];
  for (const { text } of lines) {
    if (/\s/.test(text)) throw new AtomError(`atom ${JSON.stringify(text)} holds white space`);
    if (seen.has(text)) continue;
    seen.add(text);
    unique.push(text);
  }
  return `${unique.join("\n")}\n`;
}
