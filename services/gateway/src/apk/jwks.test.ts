import { createKeyring, readApkIndexArchive, writeApkIndexArchive } from "@tailor/apk";
import { createTestSigningKey } from "@tailor/apk/testing";
import { describe, expect, it } from "vitest";
import { keyFileName, repositoryJwks } from "./jwks.js";

describe("the repository JWKS", () => {
  it("names each key by its file name without .rsa.pub, which go-apk adds back to install it", async () => {
    const signing = createTestSigningKey("acme-20261128-3f9a1c2e.rsa.pub");
    const jwks = repositoryJwks([
      { name: "acme-20261128-3f9a1c2e.rsa.pub", publicKeyPem: signing.trustedKey.pem },
    ]);
    expect(jwks.keys.map((key) => key.kid)).toEqual(["acme-20261128-3f9a1c2e"]);
    const kid = jwks.keys[0]?.kid ?? "";
    expect(keyFileName(kid)).toBe("acme-20261128-3f9a1c2e.rsa.pub");

    // An index signed with the key verifies against the file go-apk installs.
    const archive = await writeApkIndexArchive({ entries: [], signer: [signing.signer] });
    const keyring = createKeyring([{ name: `${kid}.rsa.pub`, pem: signing.trustedKey.pem }]);
    const read = await readApkIndexArchive(archive, { keyring });
    expect(read.signatures.map((s) => [s.keyName, s.verdict])).toEqual([
      ["acme-20261128-3f9a1c2e.rsa.pub", "ok"],
    ]);
  });
});
