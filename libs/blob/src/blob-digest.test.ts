import { describe, expect, it } from "vitest";
import { digestHex, isBlobDigest, sha256Digest } from "./blob-digest.js";
import { InvalidBlobDigestError } from "./errors.js";

describe("blob digests", () => {
  it("are sha256: and the lowercase hex of the bytes' SHA-256", () => {
    expect(sha256Digest(new Uint8Array(0))).toBe(
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    expect(sha256Digest(new TextEncoder().encode("abc"))).toBe(
      "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("are recognised only in canonical form", () => {
    const hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    expect(isBlobDigest(`sha256:${hex}`)).toBe(true);
    for (const value of [
      hex,
      `sha256:${hex.toUpperCase()}`,
      `sha256:${hex}\n`,
      `sha256:../${hex.slice(3)}`,
    ])
      expect(isBlobDigest(value)).toBe(false);
    expect(digestHex(`sha256:${hex}`)).toBe(hex);
    expect(() => digestHex("sha256:../../etc/passwd")).toThrow(InvalidBlobDigestError);
  });
});
