import { describe, expect, it } from "vitest";
import { acceptsMediaType } from "./manifest-route.js";
import type { PullRoute } from "./pull-route.js";
import { matchPullRoute } from "./pull-route.js";
import { checkDigest, checkReference, checkTag, repositoryName } from "./references.js";
import { quoted } from "./registry-access.js";
import { RegistryError } from "./registry-errors.js";

/** The OCI error code `work` throws. */
function codeOf(work: () => unknown): string | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    return error instanceof RegistryError ? error.code : `not a RegistryError: ${String(error)}`;
  }
}

describe("repository names and references", () => {
  it("accepts <org>/<image> names of OCI components", () => {
    expect(repositoryName("acme", "my-image_2").full).toBe("acme/my-image_2");
    expect(repositoryName("a1", "x.y__z").full).toBe("a1/x.y__z");
  });

  it.each([
    ["Acme", "img"],
    ["acme", "-img"],
    ["acme", "img-"],
    ["acme", "a/b"],
    ["", "img"],
    ["acme", "a___b"],
    ["acme", "x".repeat(260)],
  ])("refuses %s/%s as NAME_INVALID", (org, image) => {
    expect(codeOf(() => repositoryName(org, image))).toBe("NAME_INVALID");
  });

  it("tells tags from digests and checks both", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    expect(checkReference(digest)).toBe(digest);
    expect(checkReference("3.12.7-r1")).toBe("3.12.7-r1");
    expect(checkTag("t".repeat(128))).toBe("t".repeat(128));
    expect(codeOf(() => checkTag("t".repeat(129)))).toBe("TAG_INVALID");
    expect(codeOf(() => checkReference(".hidden"))).toBe("TAG_INVALID");
    expect(codeOf(() => checkDigest(`sha256:${"AB".repeat(32)}`))).toBe("DIGEST_INVALID");
    expect(codeOf(() => checkDigest(`sha512:${"a".repeat(128)}`))).toBe("DIGEST_INVALID");
  });
});

describe("acceptsMediaType", () => {
  const index = "application/vnd.oci.image.index.v1+json";
  it.each([
    [undefined, true],
    ["", true],
    ["*/*", true],
    ["application/*", true],
    [`application/json, ${index}; q=0.5`, true],
    ["application/vnd.docker.distribution.manifest.v2+json", false],
    ["text/*", false],
  ])("Accept %j admits the OCI index: %s", (accept, admitted) => {
    expect(acceptsMediaType(accept, index)).toBe(admitted);
  });
});

describe("matchPullRoute", () => {
  const route: PullRoute = {
    methods: ["GET"],
    url: "/v2/:org/:image/manifests/:reference",
    serve: async () => {
      throw new Error("not called");
    },
  };

  it("matches by segments and decodes parameters", () => {
    expect(matchPullRoute([route], "GET", "/v2/acme/img/manifests/v%2B1")?.params).toEqual({
      org: "acme",
      image: "img",
      reference: "v+1",
    });
    expect(matchPullRoute([route], "HEAD", "/v2/acme/img/manifests/latest")).toBeUndefined();
    expect(matchPullRoute([route], "GET", "/v2/acme/team/img/manifests/latest")).toBeUndefined();
    expect(matchPullRoute([route], "GET", "/v2/acme/img/manifests/")).toBeUndefined();
  });
});

describe("quoted", () => {
  it("drops what would break out of an HTTP quoted-string", () => {
    expect(quoted('http://evil"host\\x\r\n/token')).toBe('"http://evilhostx/token"');
  });
});
