/**
 * What `apk add` prints for a fresh install: one `(i/N) Installing NAME (VERSION)`
 * line per package and the `OK:` summary, or the error report.
 */
import type { SolveResult } from "./solve.js";

const SIZE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** apk's human-readable size: divided by 1024 while 10000 or more, e.g. `2 B`, `12 MiB`. */
export function formatHumanSize(bytes: number): string {
  let size = Math.max(0, Math.floor(bytes));
  let unit = 0;
  while (size >= 10000 && unit < SIZE_UNITS.length - 1) {
    size = Math.floor(size / 1024);
    unit++;
  }
  return `${size} ${SIZE_UNITS[unit]}`;
}

/**
 * apk's output for `result`, lines joined by `\n` without a trailing newline:
 * warnings, the install lines and `OK: <size> in <count> packages` on success;
 * warnings and the error report on failure.
 */
export function formatInstallOutput(result: SolveResult): string {
  if (!result.ok) return result.text;
  const total = result.packages.length;
  const lines = [...result.warnings];
  result.packages.forEach((pkg, index) => {
    const tag = pkg.installTag === undefined ? "" : `@${pkg.installTag}`;
    lines.push(`(${index + 1}/${total}) Installing ${pkg.name}${tag} (${pkg.version})`);
  });
  lines.push(`OK: ${formatHumanSize(result.installedSize)} in ${total} packages`);
  return lines.join("\n");
}
