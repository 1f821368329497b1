import { createHash } from "node:crypto";
import { writeApkIndexArchive } from "@tailor/apk";
import type { EntitledIndex } from "./entitled-index.js";
import type { ApkSigningKey } from "./repository-key.js";

/** An APKINDEX.tar.gz ready to send. */
export interface SignedIndex {
  readonly bytes: Uint8Array;
  /** Strong ETag (quoted) of the bytes. */
  readonly etag: string;
  /** Names of the keys whose `.SIGN.RSA256.<name>` entries it carries, in order. */
  readonly keyNames: readonly string[];
}

/** Signs indexes, remembering the result per index and key set. */
export interface IndexSigner {
  /** `index` as APKINDEX.tar.gz signed by every key of `keys` (RSA PKCS#1 v1.5, SHA-256). */
  sign(index: EntitledIndex, keys: readonly ApkSigningKey[]): Promise<SignedIndex>;
}

/**
 * Signs as abuild-sign does, one `.SIGN.RSA256.<key name>` entry per key.
 * The archive is kept with the index it was made from (and dropped with it)
 * and reused while the signing keys stay the same, so a rotation shows in
 * the next answer even inside the cache window.
 */
export function createIndexSigner(): IndexSigner {
  const signed = new WeakMap<EntitledIndex, SignedIndex>();
  return {
    async sign(index, keys) {
      const keyNames = keys.map((key) => key.name);
      const known = signed.get(index);
      if (known !== undefined && known.keyNames.join("\n") === keyNames.join("\n")) return known;
      const bytes = await writeApkIndexArchive({
        entries: index.entries,
        description: `Tailor repository of ${index.org.name} (${index.entries.length} packages)`,
        signer: keys.map((key) => ({
          keyName: key.name,
          privateKeyPem: key.privateKeyPem,
          algorithm: "sha256" as const,
        })),
      });
      const etag = `"${createHash("sha256").update(bytes).digest("base64url")}"`;
      const made: SignedIndex = { bytes, etag, keyNames };
      signed.set(index, made);
      return made;
    },
  };
}
