import { describe, expect, it } from "vitest";
import { createKeyring, readPackage } from "../src/index.js";
import { buildTestPackage, createTestSigningKey, rawTestPackage } from "../src/testing/index.js";

describe("@tailor/apk/testing", () => {
  const key = createTestSigningKey("test-1.rsa.pub");
  const keyring = createKeyring([key.trustedKey]);

  it("builds a package signed by a test key that its trusted key verifies", async () => {
    const bytes = await buildTestPackage(
      { name: "tool", version: "1.2-r0", depends: ["so:libc.musl-x86_64.so.1"] },
      key.signer,
    );
    const pkg = await readPackage(bytes, { keyring, requireSignature: true });
    expect(pkg.pkginfo).toMatchObject({
      pkgname: "tool",
      pkgver: "1.2-r0",
      arch: "x86_64",
      license: "MIT",
      depend: ["so:libc.musl-x86_64.so.1"],
    });
    expect(pkg.entries.map((entry) => entry.path)).toContain("usr/share/tool/README");
  });

  it("installs the given files and leaves the package unsigned without a signer", async () => {
    const bytes = await buildTestPackage(
      { name: "data", version: "1-r0", arch: "aarch64" },
      undefined,
      ["usr/share/data/a", "usr/share/data/b"],
    );
    const pkg = await readPackage(bytes);
    expect(pkg.pkginfo.arch).toBe("aarch64");
    expect(pkg.signatures).toEqual([]);
    expect(pkg.entries.map((entry) => entry.path)).toEqual(
      expect.arrayContaining(["usr/share/data/a", "usr/share/data/b"]),
    );
    await expect(readPackage(bytes, { keyring, requireSignature: true })).rejects.toThrow();
  });

  it("writes raw packages whose data tar holds exactly the hostile entries given", async () => {
    const raw = rawTestPackage(
      "evil",
      [{ name: "../escape", type: "0", content: new TextEncoder().encode("x") }],
      { signer: key.signer, description: "evil (hostile)" },
    );
    await expect(readPackage(raw.bytes, { keyring })).rejects.toThrow(/climbs out/);
    const signed = rawTestPackage("fine", [{ name: "etc/fine", type: "0" }], {
      signer: key.signer,
    });
    const verified = await readPackage(signed.bytes, { keyring, requireSignature: true });
    expect(verified.checksum).toBe(signed.checksum);
    const unsigned = rawTestPackage("plain", [{ name: "etc/plain", type: "0" }]);
    const pkg = await readPackage(unsigned.bytes);
    expect(pkg.checksum).toBe(unsigned.checksum);
    expect(pkg.pkginfo.pkgname).toBe("plain");
    expect(pkg.pkginfo.pkgdesc).toBeUndefined();
    expect(pkg.signatures).toEqual([]);
  });
});
