/**
 * @tailor/auth — how Tailor services know who is calling: EdDSA-signed
 * tokens per audience (minted by the entitlement service, verified anywhere
 * with its public keys), API key format and hashing, and the org/role checks
 * every handler makes.
 */

export type { GeneratedApiKey } from "./api-key.js";
export {
  API_KEY_PREFIX,
  apiKeySecretMatches,
  generateApiKey,
  hashApiKeySecret,
  parseApiKey,
} from "./api-key.js";
export { apiKeyEnvField } from "./api-key-env.js";
export type {
  IssuedTokenTimestamp,
  TokenIssuingClient,
  TokenKeysClient,
} from "./entitlement-client.js";
export { entitlementServiceCredentials, entitlementTokenKeys } from "./entitlement-client.js";
export type { TokenErrorReason } from "./errors.js";
export { TokenError } from "./errors.js";
export type { Principal } from "./principal.js";
export {
  AUTHORIZATION_HEADER,
  authenticate,
  authorizationMetadata,
  bearerToken,
  canAccessOrg,
  requireAdministrator,
  requireOrgRole,
} from "./request-auth.js";
export type { Audience, Role } from "./roles.js";
export { AUDIENCES, isAudience, isRole, ROLES, roleAllows } from "./roles.js";
export type {
  IssuedToken,
  ServiceCredentials,
  ServiceCredentialsOptions,
} from "./service-credentials.js";
export { createServiceCredentials } from "./service-credentials.js";
export type { PublicTokenKey, SigningKey } from "./signing-key.js";
export {
  generateSigningKey,
  parsePrivateTokenKey,
  parsePublicTokenKey,
  TOKEN_ALGORITHM,
  tokenKeyId,
} from "./signing-key.js";
export type {
  TokenKeySource,
  TokenSigner,
  TokenSubject,
  TokenVerifier,
  TokenVerifierOptions,
} from "./token.js";
export { createTokenSigner, createTokenVerifier, staticKeySource, TOKEN_ISSUER } from "./token.js";
