import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ApkError, readApkIndexArchive, readPackage, SignatureError } from "@tailor/apk";
import type { CommandIo } from "../io.js";
import { UsageError } from "../io.js";
import { fileSource, isIndexArchive } from "./file-source.js";
import { loadKeyring } from "./keyring-files.js";

/** Usage of `tailorctl apk verify`. */
export const verifyUsage = "usage: tailorctl apk verify --keys DIR FILE...";

/**
 * `tailorctl apk verify`: checks each package or APKINDEX.tar.gz against the
 * keys in DIR, printing OK, UNTRUSTED or BAD per file; exit 0 only if all are OK.
 */
export async function verifyCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { keys: { type: "string" } },
  });
  if (values.keys === undefined) throw new UsageError("verify needs --keys DIR");
  if (positionals.length === 0) throw new UsageError("verify takes at least one FILE");
  const keyring = await loadKeyring(values.keys);
  let failures = 0;
  for (const file of positionals) {
    try {
      if (isIndexArchive(file)) {
        await readApkIndexArchive(new Uint8Array(await readFile(file)), {
          file,
          keyring,
          requireSignature: true,
        });
      } else {
        await readPackage(fileSource(file), { file, keyring, requireSignature: true });
      }
      io.out(`OK ${file}`);
    } catch (error) {
      failures++;
      if (error instanceof SignatureError && error.verdict === "untrusted") {
        io.out(`UNTRUSTED ${file}: ${error.detail}`);
      } else if (error instanceof ApkError) {
        io.out(`BAD ${file}: ${error.detail}`);
      } else if ((error as NodeJS.ErrnoException).code !== undefined) {
        io.out(`BAD ${file}: ${(error as Error).message}`);
      } else {
        throw error;
      }
    }
  }
  return failures === 0 ? 0 : 1;
}
