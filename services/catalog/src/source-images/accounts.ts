/** A passwd entry of an image, as apko's `accounts.users` describes it. */
export interface ImageUser {
  readonly username: string;
  readonly uid: number;
  readonly gid: number;
  /** Login shell; empty means the builder's default. */
  readonly shell: string;
  /** Home directory; empty means the builder's default (`/home/<username>`). */
  readonly homeDir: string;
}

/** A group entry of an image, as apko's `accounts.groups` describes it. */
export interface ImageGroup {
  readonly groupname: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** Users, groups and the account the image runs as. */
export interface ImageAccounts {
  readonly users: readonly ImageUser[];
  readonly groups: readonly ImageGroup[];
  /** User name or numeric uid; empty means root, as in apko. */
  readonly runAs: string;
}

/** Accounts of an image that declares none. */
export const NO_ACCOUNTS: ImageAccounts = { users: [], groups: [], runAs: "" };

/**
 * A user or group name as shadow-utils' default NAME_REGEX accepts it:
 * lowercase letter or `_` first, then lowercase letters, digits, `_`, `-`,
 * at most 32 characters. Keeps `:` and newlines out of /etc/passwd.
 */
const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** True when `name` can name a user or group in /etc/passwd and /etc/group. */
export function isValidAccountName(name: string): boolean {
  return ACCOUNT_NAME.test(name);
}

/** Why `name` cannot name a user or group, for messages. */
export const ACCOUNT_NAME_RULE =
  "use 1 to 32 characters: a lowercase letter or '_' first, then lowercase letters, digits, '_' or '-'";

/** A numeric uid as `run-as` may give one. */
export function isNumericId(value: string): boolean {
  return /^(0|[1-9][0-9]{0,9})$/.test(value);
}

/**
 * True when `path` is a safe absolute path for /etc/passwd (shell, home
 * directory) or the image config (work dir): absolute, and free of `:`,
 * newlines and NUL, which would corrupt passwd lines.
 */
export function isSafeAbsolutePath(path: string): boolean {
  return path.startsWith("/") && !/[:\n\r\0]/.test(path);
}
