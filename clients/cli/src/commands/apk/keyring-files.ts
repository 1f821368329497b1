import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Keyring } from "@tailor/apk";
import { ApkError, createKeyring } from "@tailor/apk";

/**
 * Loads every PEM public key in `dir` into a keyring, each named by its file
 * name as apk names keys (e.g. `alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`).
 */
export async function loadKeyring(dir: string): Promise<Keyring> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => entry.name)
    .sort();
  const keys: { name: string; pem: string }[] = [];
  for (const name of names) {
    const pem = await readFile(path.join(dir, name), "utf8").catch(() => "");
    if (pem.includes("-----BEGIN PUBLIC KEY-----")) keys.push({ name, pem });
  }
  // an ApkError, so tailorctl prints it as one line and exits 1 instead of crashing
  if (keys.length === 0) throw new ApkError(`no PEM public keys in ${dir}`);
  return createKeyring(keys);
}
