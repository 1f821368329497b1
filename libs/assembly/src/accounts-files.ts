/**
 * `/etc/passwd` and `/etc/group` of an image: the packaged files (from
 * alpine-baselayout, wolfi-baselayout …) with the definition's accounts
 * merged in. Packaged lines are kept as they are, in order; an account with
 * the name of a packaged entry replaces that line in place; other accounts
 * are appended in the order given.
 */
import { InvalidAssemblyInputError } from "./errors.js";
import type { AccountGroup, Accounts, AccountUser } from "./image-definition.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;
const MAX_ID = 2 ** 31 - 1;

/** The passwd line of `user`. */
export function passwdLine(user: AccountUser, index: number): string {
  const field = `config.accounts.users[${index}]`;
  checkName(user.username, `${field}.username`);
  checkId(user.uid, `${field}.uid`);
  const gid = user.gid ?? user.uid;
  checkId(gid, `${field}.gid`);
  const gecos = checkText(user.gecos ?? "", `${field}.gecos`);
  const home = checkText(homeOf(user), `${field}.homedir`);
  const shell = checkText(user.shell ?? "/sbin/nologin", `${field}.shell`);
  return `${user.username}:x:${user.uid}:${gid}:${gecos}:${home}:${shell}`;
}

/** The group line of `group`. */
export function groupLine(group: AccountGroup, index: number): string {
  const field = `config.accounts.groups[${index}]`;
  checkName(group.groupname, `${field}.groupname`);
  checkId(group.gid, `${field}.gid`);
  for (const [at, member] of (group.members ?? []).entries()) {
    checkName(member, `${field}.members[${at}]`);
  }
  return `${group.groupname}:x:${group.gid}:${(group.members ?? []).join(",")}`;
}

/** A user's home directory. */
export function homeOf(user: AccountUser): string {
  return user.homedir ?? `/home/${user.username}`;
}

/**
 * The merged `/etc/passwd` and `/etc/group` texts, or undefined for a file
 * that needs no change (packaged and no accounts of its kind). Without a
 * packaged file and without accounts, root alone is written.
 * @throws InvalidAssemblyInputError for a malformed account.
 */
export function accountFiles(
  accounts: Accounts | undefined,
  packaged: { passwd?: string; group?: string },
): { passwd?: string; group?: string } {
  const users = (accounts?.users ?? []).map((user, index) => ({
    name: user.username,
    line: passwdLine(user, index),
  }));
  const groups = (accounts?.groups ?? []).map((group, index) => ({
    name: group.groupname,
    line: groupLine(group, index),
  }));
  const out: { passwd?: string; group?: string } = {};
  const passwd = merged(packaged.passwd, users, "root:x:0:0:root:/root:/bin/sh");
  if (passwd !== undefined) out.passwd = passwd;
  const group = merged(packaged.group, groups, "root:x:0:root");
  if (group !== undefined) out.group = group;
  return out;
}

function merged(
  packaged: string | undefined,
  accounts: readonly { name: string; line: string }[],
  rootLine: string,
): string | undefined {
  if (packaged !== undefined && accounts.length === 0) return undefined;
  const lines = packaged === undefined ? [rootLine] : packaged.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const position = new Map<string, number>();
  lines.forEach((line, index) => {
    const name = line.split(":", 1)[0] ?? "";
    if (name !== "" && !line.startsWith("#") && !position.has(name)) position.set(name, index);
  });
  for (const { name, line } of accounts) {
    const at = position.get(name);
    if (at === undefined) {
      position.set(name, lines.length);
      lines.push(line);
    } else {
      lines[at] = line;
    }
  }
  return `${lines.join("\n")}\n`;
}

function checkName(name: string, field: string): void {
  if (typeof name !== "string" || !NAME.test(name) || name.length > 32) {
    throw new InvalidAssemblyInputError(
      field,
      `${JSON.stringify(name)} is not a valid account name (letters, digits, "_", ".", "-"; up to 32)`,
    );
  }
}

function checkId(id: number, field: string): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_ID) {
    throw new InvalidAssemblyInputError(field, `${id} is not an id from 0 to ${MAX_ID}`);
  }
}

function checkText(text: string, field: string): string {
  if (/[:\n]/.test(text)) {
    throw new InvalidAssemblyInputError(field, `${JSON.stringify(text)} holds ":" or a newline`);
  }
  return text;
}
