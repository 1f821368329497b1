// The REST shapes of organizations, identities, API keys, tokens, source and
// custom images and customization previews: each a hand-written mapper from
// the services' messages and the JSON Schema the OpenAPI document shows for
// it, side by side so they change together. Conventions: camelCase keys,
// every key always present (null when unknown), ISO-8601 timestamps, enum
// values as lower-case words, 64-bit integers as numbers when they are safe.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Audience, Principal, Role } from "@tailor/auth";
import type { catalogV1, resolverV1 } from "@tailor/proto";
import { entitlementV1 } from "@tailor/proto";
import type { JsonSchema } from "./api-route.js";
import { answered } from "./service-answer.js";

// ---------------------------------------------------------------------------
// Schema building blocks

/** A string. */
export const STRING_SCHEMA: JsonSchema = { type: "string" };
const NULLABLE_STRING: JsonSchema = { type: ["string", "null"] };
const NULLABLE_TIMESTAMP: JsonSchema = { type: ["string", "null"], format: "date-time" };
const BOOLEAN: JsonSchema = { type: "boolean" };
const UINT32: JsonSchema = { type: "integer", minimum: 0 };
const STRINGS: JsonSchema = { type: "array", items: STRING_SCHEMA };
const STRING_MAP: JsonSchema = { type: "object", additionalProperties: STRING_SCHEMA };
/** A 64-bit integer: a JSON number, or a decimal string beyond ±(2^53 − 1). */
const INT64: JsonSchema = {
  type: ["integer", "string"],
  description: "an integer; a decimal string when beyond ±(2^53 − 1)",
};

/**
 * An object schema whose every property is always present (responses).
 * `title` names the schema in the OpenAPI document's components.
 */
export function responseObject(
  title: string | undefined,
  description: string,
  properties: Readonly<Record<string, JsonSchema>>,
): JsonSchema {
  return {
    ...(title === undefined ? {} : { title }),
    description,
    type: "object",
    properties,
    required: Object.keys(properties),
  };
}

/** An array of `items`. */
export function arrayOf(items: JsonSchema, description?: string): JsonSchema {
  return { type: "array", items, ...(description === undefined ? {} : { description }) };
}

/**
 * A request body object: unknown keys are refused (400 naming the key),
 * `required` lists the keys that must be given.
 */
export function requestObject(
  description: string,
  properties: Readonly<Record<string, JsonSchema>>,
  required: readonly string[] = [],
): JsonSchema {
  return {
    description,
    type: "object",
    properties,
    ...(required.length === 0 ? {} : { required: [...required] }),
    additionalProperties: false,
  };
}

// ---------------------------------------------------------------------------
// Scalars

/** An ISO-8601 timestamp, or null when unset. */
export function isoOf(timestamp: Timestamp | undefined): string | null {
  return timestamp === undefined ? null : timestampDate(timestamp).toISOString();
}

/** A 64-bit integer as a JSON number when it is safe, else as a decimal string. */
export function int64Of(value: bigint): number | string {
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString();
}

function textOrNull(value: string): string | null {
  return value === "" ? null : value;
}

/** Roles as REST names them, weakest first. */
export const ROLE_WORDS: readonly Role[] = ["viewer", "editor", "owner"];

const ROLE_OF: ReadonlyMap<entitlementV1.Role, Role> = new Map([
  [entitlementV1.Role.VIEWER, "viewer"],
  [entitlementV1.Role.EDITOR, "editor"],
  [entitlementV1.Role.OWNER, "owner"],
]);

/** A role word, or null for an unspecified role (administrators). */
export function roleWordOf(role: entitlementV1.Role): Role | null {
  return ROLE_OF.get(role) ?? null;
}

/** The entitlement service's role for a role word. */
export function roleEnumOf(word: Role): entitlementV1.Role {
  for (const [value, candidate] of ROLE_OF) if (candidate === word) return value;
  return entitlementV1.Role.UNSPECIFIED;
}

/** Audiences as REST names them. */
export const AUDIENCE_WORDS: readonly Audience[] = ["api", "registry", "apk"];

const AUDIENCE_OF: ReadonlyMap<entitlementV1.Audience, Audience> = new Map([
  [entitlementV1.Audience.API, "api"],
  [entitlementV1.Audience.REGISTRY, "registry"],
  [entitlementV1.Audience.APK, "apk"],
]);

/** The entitlement service's audience for an audience word. */
export function audienceEnumOf(word: Audience): entitlementV1.Audience {
  for (const [value, candidate] of AUDIENCE_OF) if (candidate === word) return value;
  return entitlementV1.Audience.UNSPECIFIED;
}

/** Schema of a role word. */
export const ROLE_SCHEMA: JsonSchema = {
  type: "string",
  enum: [...ROLE_WORDS],
  description:
    "viewer: read and pull; editor: also customize and build; owner: also manage identities and API keys",
};
const NULLABLE_ROLE: JsonSchema = {
  type: ["string", "null"],
  enum: [...ROLE_WORDS, null],
  description: "the role in the organization; null for a platform administrator",
};
/** Schema of an audience word. */
export const AUDIENCE_SCHEMA: JsonSchema = {
  type: "string",
  enum: [...AUDIENCE_WORDS],
  description:
    "api: the REST and gRPC APIs; registry: pulling images (/v2); apk: the private APK repository (/apk)",
};

// ---------------------------------------------------------------------------
// Organizations and entitlements

/** An organization. */
export interface OrganizationJson {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly createdAt: string | null;
  readonly customAssemblyEnabled: boolean;
  readonly customizableSourceImages: readonly string[];
  readonly uniqueTags: boolean;
}

/** Schema of {@link OrganizationJson}. */
export const ORGANIZATION_SCHEMA = responseObject("Organization", "A tenant of Tailor.", {
  id: { type: "string", format: "uuid" },
  name: { type: "string", description: "URL-safe unique name, used in registry paths" },
  displayName: STRING_SCHEMA,
  createdAt: NULLABLE_TIMESTAMP,
  customAssemblyEnabled: { type: "boolean", description: "whether it may customize images" },
  customizableSourceImages: arrayOf(STRING_SCHEMA, "source images it may customize"),
  uniqueTags: {
    type: "boolean",
    description: "whether builds also push a unique <version>-<YYYYMMDDHHMMSS> tag",
  },
});

/** An organization in its REST shape. */
export function organizationJson(organization: entitlementV1.Organization): OrganizationJson {
  return {
    id: organization.id,
    name: organization.name,
    displayName: organization.displayName,
    createdAt: isoOf(organization.createdAt),
    customAssemblyEnabled: organization.customAssemblyEnabled,
    customizableSourceImages: [...organization.customizableSourceImages],
    uniqueTags: organization.uniqueTags,
  };
}

/** A purchased source image. */
export interface PurchaseJson {
  readonly sourceImage: string;
  readonly purchasedAt: string | null;
}

/** Schema of {@link PurchaseJson}. */
export const PURCHASE_SCHEMA = responseObject(
  "Purchase",
  "A source image an organization bought.",
  {
    sourceImage: STRING_SCHEMA,
    purchasedAt: NULLABLE_TIMESTAMP,
  },
);

/** A purchase in its REST shape. */
export function purchaseJson(purchase: entitlementV1.Purchase): PurchaseJson {
  return { sourceImage: purchase.sourceImage, purchasedAt: isoOf(purchase.purchasedAt) };
}

/** An explicit package grant. */
export interface PackageGrantJson {
  readonly packageName: string;
  readonly reason: string;
  readonly grantedAt: string | null;
}

/** Schema of {@link PackageGrantJson}. */
export const PACKAGE_GRANT_SCHEMA = responseObject(
  "PackageGrant",
  "A package an organization may use beyond what its purchases bring.",
  { packageName: STRING_SCHEMA, reason: STRING_SCHEMA, grantedAt: NULLABLE_TIMESTAMP },
);

/** A package grant in its REST shape. */
export function packageGrantJson(grant: entitlementV1.PackageGrant): PackageGrantJson {
  return {
    packageName: grant.packageName,
    reason: grant.reason,
    grantedAt: isoOf(grant.grantedAt),
  };
}

/** Everything an organization may use. */
export interface EntitlementsJson {
  readonly organization: OrganizationJson;
  readonly purchases: readonly PurchaseJson[];
  readonly packageGrants: readonly PackageGrantJson[];
}

/** Schema of {@link EntitlementsJson}. */
export const ENTITLEMENTS_SCHEMA = responseObject(
  "Entitlements",
  "What an organization bought and was granted, and what it may customize.",
  {
    organization: ORGANIZATION_SCHEMA,
    purchases: arrayOf(PURCHASE_SCHEMA),
    packageGrants: arrayOf(PACKAGE_GRANT_SCHEMA),
  },
);

/** Entitlements in their REST shape. */
export function entitlementsJson(
  response: entitlementV1.GetEntitlementsResponse,
): EntitlementsJson {
  return {
    organization: organizationJson(answered(response.organization, "the organization")),
    purchases: response.purchases.map(purchaseJson),
    packageGrants: response.packageGrants.map(packageGrantJson),
  };
}

/** Schema of `{ removed }` answers of removals. */
export const REMOVED_SCHEMA = responseObject(undefined, "Whether something was removed.", {
  removed: { type: "boolean", description: "false when there was nothing to remove" },
});

// ---------------------------------------------------------------------------
// Identities, API keys and tokens

/** A person or robot acting for an organization, or a platform administrator. */
export interface IdentityJson {
  readonly id: string;
  readonly organizationId: string | null;
  readonly name: string;
  readonly role: Role | null;
  readonly administrator: boolean;
  readonly createdAt: string | null;
}

/** Schema of {@link IdentityJson}. */
export const IDENTITY_SCHEMA = responseObject(
  "Identity",
  "A person or robot acting for an organization (or a platform administrator).",
  {
    id: { type: "string", format: "uuid" },
    organizationId: { type: ["string", "null"], description: "null for a platform administrator" },
    name: STRING_SCHEMA,
    role: NULLABLE_ROLE,
    administrator: BOOLEAN,
    createdAt: NULLABLE_TIMESTAMP,
  },
);

/** An identity in its REST shape. */
export function identityJson(identity: entitlementV1.Identity): IdentityJson {
  return {
    id: identity.id,
    organizationId: textOrNull(identity.orgId),
    name: identity.name,
    role: roleWordOf(identity.role),
    administrator: identity.administrator,
    createdAt: isoOf(identity.createdAt),
  };
}

/** An API key, without its secret. */
export interface ApiKeyJson {
  readonly id: string;
  readonly identityId: string;
  readonly description: string;
  readonly createdAt: string | null;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

/** Schema of {@link ApiKeyJson}. */
export const API_KEY_SCHEMA = responseObject(
  "ApiKey",
  "An API key; its secret is only ever shown when it is created.",
  {
    id: { type: "string", description: 'public key id, the part after "tlr_" of the secret' },
    identityId: STRING_SCHEMA,
    description: STRING_SCHEMA,
    createdAt: NULLABLE_TIMESTAMP,
    expiresAt: { ...NULLABLE_TIMESTAMP, description: "null when the key does not expire" },
    revokedAt: { ...NULLABLE_TIMESTAMP, description: "set once the key is revoked" },
    lastUsedAt: { ...NULLABLE_TIMESTAMP, description: "last time the key minted a token" },
  },
);

/** An API key in its REST shape. */
export function apiKeyJson(key: entitlementV1.ApiKey): ApiKeyJson {
  return {
    id: key.id,
    identityId: key.identityId,
    description: key.description,
    createdAt: isoOf(key.createdAt),
    expiresAt: isoOf(key.expiresAt),
    revokedAt: isoOf(key.revokedAt),
    lastUsedAt: isoOf(key.lastUsedAt),
  };
}

/** Body of a request that creates an API key. */
export const NEW_API_KEY_BODY = requestObject("The new key.", {
  description: { type: "string", maxLength: 200, description: "what the key is for" },
  ttlDays: {
    type: "integer",
    minimum: 0,
    maximum: 3650,
    description: "days until the key expires; 0 or left out: it does not expire",
  },
});

/** The CreateApiKey request for `identityId` from a {@link NEW_API_KEY_BODY} body. */
export function newApiKeyRequest(
  identityId: string,
  body: unknown,
): { identityId: string; description: string; ttlDays: number } {
  const fields = (body ?? {}) as { description?: string; ttlDays?: number };
  return { identityId, description: fields.description ?? "", ttlDays: fields.ttlDays ?? 0 };
}

/** Schema of a freshly created API key with its secret. */
export const CREATED_API_KEY_SCHEMA = responseObject(
  "CreatedApiKey",
  "A new API key and, this once, its secret.",
  {
    apiKey: API_KEY_SCHEMA,
    secret: {
      type: "string",
      description: "the credential tlr_<id>_<secret>: store it now, it is never shown again",
    },
  },
);

/** What a token says about its bearer. */
export interface TokenClaimsJson {
  readonly subject: string;
  readonly subjectName: string;
  readonly audience: Audience | null;
  readonly organizationId: string | null;
  readonly organizationName: string | null;
  readonly role: Role | null;
  readonly administrator: boolean;
  readonly tokenId: string;
  readonly keyId: string;
  readonly issuedAt: string | null;
  readonly expiresAt: string | null;
}

/** Schema of {@link TokenClaimsJson}. */
export const TOKEN_CLAIMS_SCHEMA = responseObject("TokenClaims", "Who a token speaks for.", {
  subject: { type: "string", description: "identity id" },
  subjectName: { type: "string", description: "identity name" },
  audience: { ...AUDIENCE_SCHEMA, type: ["string", "null"], enum: [...AUDIENCE_WORDS, null] },
  organizationId: { type: ["string", "null"], description: "null for a platform administrator" },
  organizationName: NULLABLE_STRING,
  role: NULLABLE_ROLE,
  administrator: BOOLEAN,
  tokenId: STRING_SCHEMA,
  keyId: { type: "string", description: "id of the key that signed the token" },
  issuedAt: NULLABLE_TIMESTAMP,
  expiresAt: NULLABLE_TIMESTAMP,
});

/** Claims of an issued token in their REST shape. */
export function tokenClaimsJson(claims: entitlementV1.TokenClaims): TokenClaimsJson {
  return {
    subject: claims.subject,
    subjectName: claims.subjectName,
    audience: AUDIENCE_OF.get(claims.audience) ?? null,
    organizationId: textOrNull(claims.orgId),
    organizationName: textOrNull(claims.orgName),
    role: roleWordOf(claims.role),
    administrator: claims.administrator,
    tokenId: claims.tokenId,
    keyId: claims.keyId,
    issuedAt: isoOf(claims.issuedAt),
    expiresAt: isoOf(claims.expiresAt),
  };
}

/** A verified caller's claims in their REST shape. */
export function principalJson(principal: Principal): TokenClaimsJson {
  return {
    subject: principal.subject,
    subjectName: principal.subjectName,
    audience: principal.audience,
    organizationId: principal.orgId ?? null,
    organizationName: principal.orgName ?? null,
    role: principal.role ?? null,
    administrator: principal.administrator,
    tokenId: principal.tokenId,
    keyId: principal.keyId,
    issuedAt: principal.issuedAt.toISOString(),
    expiresAt: principal.expiresAt.toISOString(),
  };
}

/** A freshly issued token. */
export interface IssuedTokenJson {
  readonly token: string;
  readonly expiresAt: string | null;
  readonly claims: TokenClaimsJson;
}

/** Schema of {@link IssuedTokenJson}. */
export const ISSUED_TOKEN_SCHEMA = responseObject("IssuedToken", "A short-lived signed token.", {
  token: {
    type: "string",
    description:
      "compact JWS; send it as a bearer token (api, registry) or as the basic password (registry, apk)",
  },
  expiresAt: NULLABLE_TIMESTAMP,
  claims: TOKEN_CLAIMS_SCHEMA,
});

/** An issued token in its REST shape. */
export function issuedTokenJson(response: entitlementV1.IssueTokenResponse): IssuedTokenJson {
  return {
    token: response.token,
    expiresAt: isoOf(response.expiresAt),
    claims: tokenClaimsJson(answered(response.claims, "the token's claims")),
  };
}

// ---------------------------------------------------------------------------
// Accounts and overlays (shared by source and custom images)

/** Users and groups as apko's `accounts` has them. */
export interface AccountsJson {
  readonly users: readonly {
    readonly username: string;
    readonly uid: number;
    readonly gid: number;
    readonly shell: string;
    readonly homeDir: string;
  }[];
  readonly groups: readonly {
    readonly groupname: string;
    readonly gid: number;
    readonly members: readonly string[];
  }[];
  readonly runAs: string;
}

const USER_PROPERTIES = {
  username: STRING_SCHEMA,
  uid: UINT32,
  gid: UINT32,
  shell: STRING_SCHEMA,
  homeDir: STRING_SCHEMA,
};
const GROUP_PROPERTIES = { groupname: STRING_SCHEMA, gid: UINT32, members: STRINGS };

/** Schema of {@link AccountsJson}. */
export const ACCOUNTS_SCHEMA = responseObject("Accounts", "Users and groups of an image.", {
  users: arrayOf(responseObject("User", "A passwd entry.", USER_PROPERTIES)),
  groups: arrayOf(responseObject("Group", "A group entry.", GROUP_PROPERTIES)),
  runAs: { type: "string", description: "user name or uid the image runs as; empty for root" },
});

/** Accounts in their REST shape. */
export function accountsJson(accounts: catalogV1.Accounts | undefined): AccountsJson {
  return {
    users: (accounts?.users ?? []).map((user) => ({
      username: user.username,
      uid: user.uid,
      gid: user.gid,
      shell: user.shell,
      homeDir: user.homeDir,
    })),
    groups: (accounts?.groups ?? []).map((group) => ({
      groupname: group.groupname,
      gid: group.gid,
      members: [...group.members],
    })),
    runAs: accounts?.runAs ?? "",
  };
}

/** What an organization changes on top of a source image. */
export interface OverlayJson {
  readonly packages: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly accounts: AccountsJson;
  readonly certificates: readonly { readonly name: string; readonly pem: string }[];
  readonly repositories: readonly string[];
  readonly keys: readonly { readonly name: string; readonly pem: string }[];
}

const PEM_FILE = (title: string, description: string) =>
  responseObject(title, description, { name: STRING_SCHEMA, pem: STRING_SCHEMA });

/** Schema of {@link OverlayJson}. */
export const OVERLAY_SCHEMA = responseObject(
  "Overlay",
  "What a custom image changes on top of its source image.",
  {
    packages: arrayOf(
      STRING_SCHEMA,
      'added packages as apk atoms ("jq", "curl>=8", "python-3.12=3.12.7-r1")',
    ),
    environment: STRING_MAP,
    annotations: STRING_MAP,
    accounts: ACCOUNTS_SCHEMA,
    certificates: arrayOf(
      PEM_FILE("Certificate", "A PEM CA certificate added to the image's trust store."),
    ),
    repositories: arrayOf(STRING_SCHEMA, "runtime apk repositories (HTTPS URLs)"),
    keys: arrayOf(PEM_FILE("RuntimeKey", "A PEM RSA public key apk trusts inside the image.")),
  },
);

/** An overlay in its REST shape. */
export function overlayJson(overlay: catalogV1.Overlay | undefined): OverlayJson {
  return {
    packages: [...(overlay?.packages ?? [])],
    environment: { ...overlay?.environment },
    annotations: { ...overlay?.annotations },
    accounts: accountsJson(overlay?.accounts),
    certificates: (overlay?.certificates ?? []).map(({ name, pem }) => ({ name, pem })),
    repositories: [...(overlay?.repositories ?? [])],
    keys: (overlay?.keys ?? []).map(({ name, pem }) => ({ name, pem })),
  };
}

const USER_INPUT = requestObject(
  "A passwd entry.",
  {
    username: { type: "string", minLength: 1 },
    uid: UINT32,
    gid: UINT32,
    shell: STRING_SCHEMA,
    homeDir: STRING_SCHEMA,
  },
  ["username", "uid"],
);
const GROUP_INPUT = requestObject(
  "A group entry.",
  { groupname: { type: "string", minLength: 1 }, gid: UINT32, members: STRINGS },
  ["groupname", "gid"],
);
const PEM_INPUT = requestObject(
  "A named PEM text.",
  { name: { type: "string", minLength: 1 }, pem: { type: "string", minLength: 1 } },
  ["name", "pem"],
);

/** Schema of an overlay in a request: every key optional. */
export const OVERLAY_INPUT_SCHEMA: JsonSchema = {
  title: "OverlayChange",
  ...requestObject(
    "What to change on top of the source image. Keys left out keep the custom image's current value (nothing, for a new image); a key given replaces it whole.",
    {
      packages: {
        type: "array",
        items: { type: "string", minLength: 1 },
        maxItems: 1000,
        description:
          'added packages as apk atoms ("jq", "curl>=8"); the source image\'s own packages cannot be removed',
      },
      environment: STRING_MAP,
      annotations: STRING_MAP,
      accounts: requestObject("Users and groups to add.", {
        users: { type: "array", items: USER_INPUT },
        groups: { type: "array", items: GROUP_INPUT },
        runAs: STRING_SCHEMA,
      }),
      certificates: { type: "array", items: PEM_INPUT },
      repositories: { type: "array", items: STRING_SCHEMA },
      keys: { type: "array", items: PEM_INPUT },
    },
  ),
};

/** An overlay as a request gives it (after validation against {@link OVERLAY_INPUT_SCHEMA}). */
export interface OverlayInput {
  readonly packages?: readonly string[];
  readonly environment?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly accounts?: {
    readonly users?: readonly {
      readonly username: string;
      readonly uid: number;
      readonly gid?: number;
      readonly shell?: string;
      readonly homeDir?: string;
    }[];
    readonly groups?: readonly {
      readonly groupname: string;
      readonly gid: number;
      readonly members?: readonly string[];
    }[];
    readonly runAs?: string;
  };
  readonly certificates?: readonly { readonly name: string; readonly pem: string }[];
  readonly repositories?: readonly string[];
  readonly keys?: readonly { readonly name: string; readonly pem: string }[];
}

/**
 * The overlay to store or preview: `input`'s keys replace `current`'s, keys
 * `input` leaves out keep their current value.
 */
export function mergedOverlay(
  current: catalogV1.Overlay | undefined,
  input: OverlayInput | undefined,
): MessageInitShape<typeof catalogV1.OverlaySchema> {
  const base = overlayJson(current);
  const accounts = input?.accounts;
  return {
    packages: [...(input?.packages ?? base.packages)],
    environment: { ...(input?.environment ?? base.environment) },
    annotations: { ...(input?.annotations ?? base.annotations) },
    accounts: {
      users: (accounts === undefined ? base.accounts.users : (accounts.users ?? [])).map(
        (user) => ({
          username: user.username,
          uid: user.uid,
          gid: user.gid ?? user.uid,
          shell: user.shell ?? "",
          homeDir: user.homeDir ?? "",
        }),
      ),
      groups: (accounts === undefined ? base.accounts.groups : (accounts.groups ?? [])).map(
        (group) => ({
          groupname: group.groupname,
          gid: group.gid,
          members: [...(group.members ?? [])],
        }),
      ),
      runAs: accounts === undefined ? base.accounts.runAs : (accounts.runAs ?? ""),
    },
    certificates: (input?.certificates ?? base.certificates).map(({ name, pem }) => ({
      name,
      pem,
    })),
    repositories: [...(input?.repositories ?? base.repositories)],
    keys: (input?.keys ?? base.keys).map(({ name, pem }) => ({ name, pem })),
  };
}

// ---------------------------------------------------------------------------
// Source images

/** A base image definition. */
export interface SourceImageJson {
  readonly name: string;
  readonly mainPackage: string;
  readonly version: string | null;
  readonly packages: readonly string[];
  readonly devPackages: readonly string[];
  readonly repositories: readonly string[];
  readonly keyring: readonly string[];
  readonly accounts: AccountsJson;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly workDir: string | null;
  readonly environment: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly archs: readonly string[];
  readonly generation: number;
  readonly updatedAt: string | null;
  /** The YAML definition: only when one image is asked for. */
  readonly yaml?: string;
}

const SOURCE_IMAGE_PROPERTIES: Record<string, JsonSchema> = {
  name: STRING_SCHEMA,
  mainPackage: { type: "string", description: "the package whose version the image carries" },
  version: { type: ["string", "null"], description: "version of the main package, when known" },
  packages: arrayOf(STRING_SCHEMA, "packages of the image (never removable by a customization)"),
  devPackages: arrayOf(STRING_SCHEMA, "packages the -dev variant adds"),
  repositories: STRINGS,
  keyring: STRINGS,
  accounts: ACCOUNTS_SCHEMA,
  entrypoint: STRINGS,
  cmd: STRINGS,
  workDir: NULLABLE_STRING,
  environment: STRING_MAP,
  annotations: STRING_MAP,
  archs: STRINGS,
  generation: { type: "integer", description: "incremented on each change of the definition" },
  updatedAt: NULLABLE_TIMESTAMP,
};

/** Schema of {@link SourceImageJson}. */
export const SOURCE_IMAGE_SCHEMA: JsonSchema = {
  ...responseObject(
    "SourceImage",
    "A base image definition organizations customize.",
    SOURCE_IMAGE_PROPERTIES,
  ),
  properties: {
    ...SOURCE_IMAGE_PROPERTIES,
    yaml: { type: "string", description: "the apko YAML it was defined from (single image only)" },
  },
};

/** A source image in its REST shape; `withYaml` adds its YAML definition. */
export function sourceImageJson(image: catalogV1.SourceImage, withYaml: boolean): SourceImageJson {
  return {
    name: image.name,
    mainPackage: image.mainPackage,
    version: textOrNull(image.version),
    packages: [...image.packages],
    devPackages: [...image.devPackages],
    repositories: [...image.repositories],
    keyring: [...image.keyring],
    accounts: accountsJson(image.accounts),
    entrypoint: [...image.entrypoint],
    cmd: [...image.cmd],
    workDir: textOrNull(image.workDir),
    environment: { ...image.environment },
    annotations: { ...image.annotations },
    archs: [...image.archs],
    generation: image.generation,
    updatedAt: isoOf(image.updatedAt),
    ...(withYaml ? { yaml: image.yaml } : {}),
  };
}

// ---------------------------------------------------------------------------
// Custom images

/** One revision of an organization's customization of a source image. */
export interface CustomImageJson {
  readonly organizationId: string;
  readonly name: string;
  readonly sourceImage: string;
  readonly revision: number;
  readonly overlay: OverlayJson;
  readonly author: string;
  readonly authorId: string | null;
  readonly comment: string;
  readonly createdAt: string | null;
  readonly imageCreatedAt: string | null;
}

/** Schema of {@link CustomImageJson}. */
export const CUSTOM_IMAGE_SCHEMA = responseObject(
  "CustomImage",
  "One revision of an organization's customization of a source image.",
  {
    organizationId: STRING_SCHEMA,
    name: STRING_SCHEMA,
    sourceImage: STRING_SCHEMA,
    revision: { type: "integer", minimum: 1 },
    overlay: OVERLAY_SCHEMA,
    author: { type: "string", description: "name of the identity that made this revision" },
    authorId: { type: ["string", "null"], description: "id of that identity" },
    comment: { type: "string", description: "why this revision was made" },
    createdAt: { ...NULLABLE_TIMESTAMP, description: "when this revision was made" },
    imageCreatedAt: { ...NULLABLE_TIMESTAMP, description: "when revision 1 was made" },
  },
);

/** A custom image revision in its REST shape. */
export function customImageJson(image: catalogV1.CustomImage): CustomImageJson {
  return {
    organizationId: image.orgId,
    name: image.name,
    sourceImage: image.sourceImage,
    revision: image.revision,
    overlay: overlayJson(image.overlay),
    author: image.author,
    authorId: textOrNull(image.authorSubject),
    comment: image.comment,
    createdAt: isoOf(image.createdAt),
    imageCreatedAt: isoOf(image.imageCreatedAt),
  };
}

// ---------------------------------------------------------------------------
// Customization: entitled packages and previews

/** A package an organization may add. */
export interface EntitledPackageJson {
  readonly name: string;
  readonly versions: readonly string[];
  readonly sources: readonly string[];
  readonly description: string;
}

/** Schema of {@link EntitledPackageJson}. */
export const ENTITLED_PACKAGE_SCHEMA = responseObject(
  "EntitledPackage",
  "A package an organization may add to its custom images.",
  {
    name: STRING_SCHEMA,
    versions: arrayOf(STRING_SCHEMA, "supported versions available, highest first"),
    sources: arrayOf(
      STRING_SCHEMA,
      'why it is entitled: "source-image:<name>" (in a purchased image\'s closure) or "grant"',
    ),
    description: STRING_SCHEMA,
  },
);

/** An entitled package in its REST shape. */
export function entitledPackageJson(entitled: resolverV1.EntitledPackage): EntitledPackageJson {
  return {
    name: entitled.name,
    versions: [...entitled.versions],
    sources: [...entitled.sources],
    description: entitled.description,
  };
}

/** One difference between two closures. */
export interface PackageChangeJson {
  readonly name: string;
  readonly oldVersion: string | null;
  readonly newVersion: string | null;
  readonly installedSizeDelta: number | string;
}

const PACKAGE_CHANGE_SCHEMA = responseObject(
  "PackageChange",
  "A package the change adds, removes or moves to another version.",
  {
    name: STRING_SCHEMA,
    oldVersion: { type: ["string", "null"], description: "null when the package is added" },
    newVersion: { type: ["string", "null"], description: "null when the package is removed" },
    installedSizeDelta: { ...INT64, description: "bytes (may be negative)" },
  },
);

function packageChangeJson(change: resolverV1.PackageChange): PackageChangeJson {
  return {
    name: change.name,
    oldVersion: textOrNull(change.oldVersion),
    newVersion: textOrNull(change.newVersion),
    installedSizeDelta: int64Of(change.installedSizeDelta),
  };
}

/** Why no closure exists for a proposed change. */
export interface ResolveFailureJson {
  readonly text: string;
  readonly problems: readonly {
    readonly package: string;
    readonly kind: string;
    readonly lines: readonly string[];
  }[];
  readonly notEntitled: readonly string[];
}

/** Schema of {@link ResolveFailureJson}. */
export const RESOLVE_FAILURE_SCHEMA = responseObject(
  "ResolveFailure",
  "Why the proposed packages cannot be installed together, in apk's words and structured.",
  {
    text: { type: "string", description: "apk's error output" },
    problems: arrayOf(
      responseObject("ResolveProblem", "One part of the failure.", {
        package: { type: "string", description: '"name-version" or the name it is about' },
        kind: {
          type: "string",
          description:
            'e.g. "breaks", "conflicts", "not_entitled", "no_such_package", "end_of_life"',
        },
        lines: STRINGS,
      }),
    ),
    notEntitled: arrayOf(
      STRING_SCHEMA,
      "packages refused because the organization is not entitled to them",
    ),
  },
);

/** A resolve failure in its REST shape. */
export function resolveFailureJson(failure: resolverV1.ResolveFailure): ResolveFailureJson {
  return {
    text: failure.text,
    problems: failure.problems.map((problem) => ({
      package: problem.package,
      kind: problem.kind,
      lines: [...problem.lines],
    })),
    notEntitled: [...failure.notEntitled],
  };
}

/** What a proposed overlay would change. */
export interface PreviewJson {
  readonly ok: boolean;
  readonly sourceImage: string;
  readonly arch: string;
  readonly baselineRevision: number | null;
  readonly added: readonly PackageChangeJson[];
  readonly removed: readonly PackageChangeJson[];
  readonly changed: readonly PackageChangeJson[];
  readonly installedSizeDelta: number | string;
  readonly installedSize: number | string;
  readonly fileConflicts: readonly {
    readonly path: string;
    readonly packages: readonly string[];
  }[];
  readonly failure: ResolveFailureJson | null;
}

/** Schema of {@link PreviewJson}. */
export const PREVIEW_SCHEMA = responseObject(
  "Preview",
  "What a proposed overlay would change in the custom image's closure for one arch.",
  {
    ok: { type: "boolean", description: "false when the proposed packages cannot be resolved" },
    sourceImage: STRING_SCHEMA,
    arch: STRING_SCHEMA,
    baselineRevision: {
      type: ["integer", "null"],
      description: "the revision compared with; null for a new custom image",
    },
    added: arrayOf(PACKAGE_CHANGE_SCHEMA),
    removed: arrayOf(PACKAGE_CHANGE_SCHEMA),
    changed: arrayOf(PACKAGE_CHANGE_SCHEMA),
    installedSizeDelta: { ...INT64, description: "bytes (may be negative)" },
    installedSize: { ...INT64, description: "bytes the proposed closure installs" },
    fileConflicts: arrayOf(
      responseObject("FileConflict", "A path more than one package installs.", {
        path: STRING_SCHEMA,
        packages: STRINGS,
      }),
    ),
    failure: { anyOf: [RESOLVE_FAILURE_SCHEMA, { type: "null" }] },
  },
);

/** A preview in its REST shape. */
export function previewJson(
  response: resolverV1.PreviewResponse,
  context: { sourceImage: string; arch: string; baselineRevision: number | null },
): PreviewJson {
  return {
    ok: response.ok,
    sourceImage: context.sourceImage,
    arch: context.arch,
    baselineRevision: context.baselineRevision,
    added: response.added.map(packageChangeJson),
    removed: response.removed.map(packageChangeJson),
    changed: response.changed.map(packageChangeJson),
    installedSizeDelta: int64Of(response.installedSizeDelta),
    installedSize: int64Of(response.installedSize),
    fileConflicts: response.fileConflicts.map((conflict) => ({
      path: conflict.path,
      packages: [...conflict.packages],
    })),
    failure:
      response.ok || response.failure === undefined ? null : resolveFailureJson(response.failure),
  };
}
