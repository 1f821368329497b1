import { describe, expect, it } from "vitest";
import {
  API_KEY_PREFIX,
  apiKeySecretMatches,
  generateApiKey,
  hashApiKeySecret,
  parseApiKey,
} from "../src/index.js";

describe("API keys", () => {
  it("generates tlr_<id>_<secret> credentials that parse back and match their stored hash", () => {
    const key = generateApiKey();
    expect(key.credential.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(key.id).toMatch(/^[a-z0-9]{12}$/);
    const parsed = parseApiKey(key.credential);
    expect(parsed?.id).toBe(key.id);
    expect(parsed?.secret).toHaveLength(43);
    expect(key.secretHash).toBe(hashApiKeySecret(parsed?.secret ?? ""));
    expect(key.secretHash).not.toContain(parsed?.secret ?? "");
    expect(apiKeySecretMatches(parsed?.secret ?? "", key.secretHash)).toBe(true);
  });

  it("generates a different id and secret every time", () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.id).not.toBe(b.id);
    expect(a.credential).not.toBe(b.credential);
  });

  it("parses secrets containing '_' and '-' and ignores surrounding whitespace", () => {
    const secret = `a_b-${"c".repeat(39)}`;
    expect(parseApiKey(`  tlr_abcdefghij12_${secret}\n`)).toEqual({
      id: "abcdefghij12",
      secret,
    });
  });

  it("rejects anything not shaped like a key", () => {
    const secret = "s".repeat(43);
    for (const text of [
      "",
      "hunter2",
      `tlr_ABCDEFGHIJ12_${secret}`,
      `tlr_short_${secret}`,
      `tlr_abcdefghij12_${secret}x`,
      `tlr_abcdefghij12_${"s".repeat(42)}`,
      `xyz_abcdefghij12_${secret}`,
      `tlr_abcdefghij12_${"s".repeat(42)}=`,
    ]) {
      expect(parseApiKey(text), text).toBeUndefined();
    }
  });

  it("does not match a wrong secret or a garbled stored hash", () => {
    const key = generateApiKey();
    const secret = parseApiKey(key.credential)?.secret ?? "";
    const other = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    expect(apiKeySecretMatches(other, key.secretHash)).toBe(false);
    expect(apiKeySecretMatches(secret, "not-hex")).toBe(false);
    expect(apiKeySecretMatches(secret, "")).toBe(false);
  });
});
