/** What an identity may do inside its organization, weakest first. */
export type Role = "viewer" | "editor" | "owner";

/** What a token may be used for. */
export type Audience = "api" | "registry" | "apk";

/** Every role, weakest first. */
export const ROLES: readonly Role[] = ["viewer", "editor", "owner"];

/** Every audience. */
export const AUDIENCES: readonly Audience[] = ["api", "registry", "apk"];

/** True when `role` includes everything `minimum` may do (owner ⊃ editor ⊃ viewer). */
export function roleAllows(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

/** True when `value` names a role. */
export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** True when `value` names an audience. */
export function isAudience(value: unknown): value is Audience {
  return typeof value === "string" && (AUDIENCES as readonly string[]).includes(value);
}
