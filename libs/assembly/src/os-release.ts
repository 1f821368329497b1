/** `/etc/os-release` written by Tailor (os-release(5)). */

/** Fields of a generated `/etc/os-release`. */
export interface OsRelease {
  /** `ID`. @default "tailor" */
  id?: string;
  /** `NAME`. @default "Tailor" */
  name?: string;
  /** `VERSION_ID`. */
  versionId?: string;
  /** `PRETTY_NAME`. @default NAME, plus VERSION_ID when given */
  prettyName?: string;
  /** `HOME_URL`. */
  homeUrl?: string;
  /** `BUG_REPORT_URL`. */
  bugReportUrl?: string;
  /** `ID_LIKE`, e.g. `alpine` or `wolfi`. */
  idLike?: string;
}

// os-release(5) gives these as lower-case words, unquoted.
const UNQUOTED_KEYS = new Set(["ID", "ID_LIKE", "VERSION_ID"]);

/** The text of `/etc/os-release` for `release`, values quoted as os-release(5) asks. */
export function formatOsRelease(release: OsRelease = {}): string {
  const name = release.name ?? "Tailor";
  const lines: [string, string | undefined][] = [
    ["NAME", name],
    ["ID", release.id ?? "tailor"],
    ["ID_LIKE", release.idLike],
    ["VERSION_ID", release.versionId],
    [
      "PRETTY_NAME",
      release.prettyName ??
        (release.versionId === undefined ? name : `${name} ${release.versionId}`),
    ],
    ["HOME_URL", release.homeUrl],
    ["BUG_REPORT_URL", release.bugReportUrl],
  ];
  let out = "";
  for (const [key, value] of lines) {
    if (value === undefined) continue;
    const bare = UNQUOTED_KEYS.has(key) && /^[a-z0-9._-]+$/.test(value);
    out += bare ? `${key}=${value}\n` : `${key}=${quote(value)}\n`;
  }
  return out;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"`$]/g, (c) => `\\${c}`).replace(/\n/g, " ")}"`;
}
