// The organization's private APK repository keys over REST: list them (any
// member) and rotate them (owner or administrator), e.g. after a leak.
import { roleAllows } from "@tailor/auth";
import type { ApkRepositoryKey } from "../apk/repository-key.js";
import type { ApiRoute } from "./api-route.js";
import { ApiRequestError, apiPath } from "./api-route.js";
import { organizationOf } from "./organization-ref.js";
import { ORG_PARAM } from "./organizations-routes.js";
import { arrayOf, requestObject, responseObject } from "./representations.js";

const TAGS = ["apk-repository"];

const APK_KEY_SCHEMA = responseObject("ApkRepositoryKey", "A public key of the repository.", {
  name: {
    type: "string",
    description: "key file name as installed in /etc/apk/keys, and the JWKS kid",
  },
  publicKeyPem: { type: "string", description: "SPKI PEM (the .rsa.pub file)" },
  createdAt: { type: "string", format: "date-time" },
  current: { type: "boolean", description: "true for the key new indexes are signed with" },
  signsUntil: {
    type: ["string", "null"],
    format: "date-time",
    description: "a retired key co-signs indexes until then; null for the current key",
  },
  listedUntil: {
    type: ["string", "null"],
    format: "date-time",
    description: "a retired key stays in the JWKS until then; null for the current key",
  },
});

const APK_KEY_LIST_SCHEMA = responseObject("ApkRepositoryKeyList", "The repository's keys.", {
  repositoryUrl: {
    type: "string",
    description: "the repository's base URL (add it to /etc/apk/repositories)",
  },
  keys: arrayOf(APK_KEY_SCHEMA, "current key first"),
});

function keyJson(key: ApkRepositoryKey) {
  return {
    name: key.name,
    publicKeyPem: key.publicKeyPem,
    createdAt: key.createdAt.toISOString(),
    current: key.retiredAt === undefined,
    signsUntil: key.signsUntil?.toISOString() ?? null,
    listedUntil: key.listedUntil?.toISOString() ?? null,
  };
}

/** REST routes of the organization's APK repository keys. */
export const apkKeyRoutes: readonly ApiRoute[] = [
  {
    method: "GET",
    path: "/api/v1/organizations/{org}/apk-keys",
    operationId: "listApkRepositoryKeys",
    summary: "List the private APK repository's keys",
    description:
      "The keys listed in the repository's JWKS: the current one (created on first use) and retired ones still published. Any member.",
    tags: TAGS,
    params: { org: ORG_PARAM },
    response: { description: "The keys and the repository URL.", schema: APK_KEY_LIST_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      const keys = await context.deps.apkKeys.publishedKeys(org);
      return {
        repositoryUrl: `${context.deps.publicUrl(context.request)}/apk/${org.name}`,
        keys: keys.map(keyJson),
      };
    },
  },
  {
    method: "POST",
    path: "/api/v1/organizations/{org}/apk-keys/rotate",
    operationId: "rotateApkRepositoryKey",
    summary: "Rotate the private APK repository's signing key",
    description:
      "Owner or administrator. The new key signs from now on; the old one keeps co-signing for one rotation period (clients that trust only it keep working) unless `immediate` is true (for a leaked key: it stops signing and leaves the JWKS now). Rebuild -dev images so they trust the new key.",
    tags: TAGS,
    params: { org: ORG_PARAM },
    body: requestObject("How to rotate.", {
      immediate: {
        type: "boolean",
        description: "retire the old key at once instead of after an overlap (default false)",
      },
    }),
    response: { status: 201, description: "The new current key.", schema: APK_KEY_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      const principal = context.credential?.principal;
      const allowed =
        principal !== undefined &&
        (principal.administrator ||
          (principal.orgId === org.id &&
            principal.role !== undefined &&
            roleAllows(principal.role, "owner")));
      if (!allowed) {
        throw new ApiRequestError(
          403,
          "PERMISSION_DENIED",
          "rotating the APK repository key needs the owner role",
        );
      }
      const body = (context.body ?? {}) as { immediate?: boolean };
      const key = await context.deps.apkKeys.rotate(org, { immediate: body.immediate === true });
      context.request.log.info(
        { org: org.name, key: key.name, immediate: body.immediate === true },
        "APK repository key rotated over REST",
      );
      // A key has no address of its own: the list it now heads.
      context.reply.header("location", apiPath("organizations", org.name, "apk-keys"));
      return keyJson(key);
    },
  },
];
