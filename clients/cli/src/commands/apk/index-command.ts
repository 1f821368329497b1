import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import type { IndexEntry } from "@tailor/apk";
import { indexEntryFromPackage, readPackage, writeApkIndexArchive } from "@tailor/apk";
import type { CommandIo } from "../io.js";
import { UsageError } from "../io.js";
import { fileSource } from "./file-source.js";

/** Usage of `tailorctl apk index`. */
export const indexUsage =
  "usage: tailorctl apk index DIR -o APKINDEX.tar.gz [--sign KEY.pem --key-name NAME.rsa.pub] [--description TEXT]";

/** `tailorctl apk index`: an APKINDEX.tar.gz for every .apk in DIR, optionally signed. */
export async function indexCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      sign: { type: "string" },
      "key-name": { type: "string" },
      description: { type: "string" },
      algorithm: { type: "string" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("index takes one DIR");
  if (values.output === undefined) throw new UsageError("index needs -o APKINDEX.tar.gz");
  if ((values.sign === undefined) !== (values["key-name"] === undefined)) {
    throw new UsageError("--sign and --key-name go together");
  }
  const algorithm = values.algorithm ?? "sha256";
  if (algorithm !== "sha1" && algorithm !== "sha256") {
    throw new UsageError(`--algorithm must be sha1 or sha256, got "${algorithm}"`);
  }
  const dir = positionals[0] ?? "";
  const files = (await readdir(dir)).filter((name) => name.endsWith(".apk")).sort();
  const entries: IndexEntry[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    const pkg = await readPackage(fileSource(file), { file });
    entries.push(indexEntryFromPackage(pkg, (await stat(file)).size));
  }
  const signer =
    values.sign === undefined
      ? undefined
      : {
          keyName: values["key-name"] ?? "",
          privateKeyPem: await readFile(values.sign, "utf8"),
          algorithm: algorithm as "sha1" | "sha256",
        };
  const archive = await writeApkIndexArchive({
    entries,
    ...(values.description === undefined ? {} : { description: values.description }),
    ...(signer === undefined ? {} : { signer }),
  });
  await writeFile(values.output, archive);
  io.out(
    `${values.output}: ${entries.length} packages${signer === undefined ? "" : `, signed by ${signer.keyName}`}`,
  );
  return 0;
}
