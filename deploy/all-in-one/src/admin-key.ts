import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { generateApiKey, parseApiKey } from "@tailor/auth";

/** File under the data directory holding the generated administrator API key. */
export const ADMIN_KEY_FILE = "admin-key";

/** File under the data directory holding the generated service API key (TAILOR_SERVICE_API_KEY). */
export const SERVICE_KEY_FILE = "service-key";

/** Where an API key of this start comes from. */
export interface ApiKeySource {
  readonly credential: string;
  /** `environment` when the variable was set, else the file it was read from or written to. */
  readonly source: "environment" | string;
  /** True when this start generated the key. */
  readonly generated: boolean;
}

/** Where the administrator key of this start comes from. */
export type AdminKey = ApiKeySource;

/**
 * An API key: `configured` (the variable's value) when set; otherwise the key
 * kept in `<dataDir>/<fileName>`, generated (mode 0600) on the first start so
 * a newcomer runs Tailor without configuring anything.
 */
export async function resolveApiKeyFile(
  configured: string | undefined,
  dataDir: string,
  fileName: string,
): Promise<ApiKeySource> {
  if (configured !== undefined && configured.trim() !== "") {
    return { credential: configured.trim(), source: "environment", generated: false };
  }
  const file = path.join(dataDir, fileName);
  let stored: string | undefined;
  try {
    stored = (await readFile(file, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (stored !== undefined) {
    if (parseApiKey(stored) === undefined) {
      throw new Error(
        `${file} does not hold an API key (tlr_<id>_<secret>); delete it to have a new one generated`,
      );
    }
    return { credential: stored, source: file, generated: false };
  }
  const key = generateApiKey();
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${key.credential}\n`, { mode: 0o600, flag: "wx" });
  return { credential: key.credential, source: file, generated: true };
}

/**
 * The bootstrap administrator key: TAILOR_BOOTSTRAP_ADMIN_KEY when set;
 * otherwise the key kept in `<dataDir>/admin-key`, generated on first start.
 */
export function resolveAdminKey(
  configured: string | undefined,
  dataDir: string,
): Promise<AdminKey> {
  return resolveApiKeyFile(configured, dataDir, ADMIN_KEY_FILE);
}
