import { parseAtom } from "@tailor/apk";
import { parseDocument } from "yaml";
import type { ImageAccounts, ImageGroup, ImageUser } from "./accounts.js";
import {
  ACCOUNT_NAME_RULE,
  isNumericId,
  isSafeAbsolutePath,
  isValidAccountName,
} from "./accounts.js";
import { DEFAULT_ARCHES, normalizeArch } from "./apk-arch.js";
import type { FieldProblem } from "./field-problem.js";
import { InvalidFieldsError } from "./field-problem.js";
import type { SourceImageDefinition } from "./source-image.js";
import { DEFAULT_DEV_PACKAGES } from "./source-image.js";
import { CommandSyntaxError, splitCommand } from "./split-command.js";
import type { YamlValue } from "./yaml-reader.js";
import { YamlReader } from "./yaml-reader.js";

/** The largest source image YAML accepted, in bytes. */
export const MAX_SOURCE_IMAGE_YAML_BYTES = 256 * 1024;

/** Largest uid or gid in a source image: Linux ids are 32-bit, and 2^32-1 means "no id". */
const MAX_ID = 4_294_967_294;

/** An environment variable name, as POSIX shells accept it. */
export const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A parsed source image YAML and the apko fields Tailor read past without using. */
export interface ParsedSourceImageYaml {
  readonly definition: SourceImageDefinition;
  /** Paths of fields Tailor does not use (e.g. `paths`, `contents.build_repositories`), sorted. */
  readonly ignoredFields: readonly string[];
}

const TOP_LEVEL_FIELDS = new Set([
  "contents",
  "accounts",
  "entrypoint",
  "cmd",
  "work-dir",
  "environment",
  "annotations",
  "archs",
  "dev",
]);

/**
 * Parses an apko ImageConfiguration YAML into a source image definition.
 *
 * Reads `contents.{packages,repositories,keyring}`, `accounts`,
 * `entrypoint.command` (or `entrypoint.shell-fragment`), `cmd`, `work-dir`,
 * `environment`, `annotations`, `archs`, and Tailor's own `dev.packages`.
 * Other apko fields are tolerated and listed in `ignoredFields`; `include`
 * and service-bundle entrypoints are refused because Tailor cannot honour
 * them.
 *
 * @throws InvalidFieldsError listing every problem, each at its YAML path
 *   (e.g. `accounts.users[1].uid`); `yaml` for a text that is not YAML.
 */
export function parseSourceImageYaml(
  text: string,
  subject = "source image YAML",
): ParsedSourceImageYaml {
  const size = Buffer.byteLength(text, "utf8");
  if (size > MAX_SOURCE_IMAGE_YAML_BYTES) {
    throw new InvalidFieldsError(subject, [
      { field: "yaml", message: `is ${size} bytes; the limit is ${MAX_SOURCE_IMAGE_YAML_BYTES}` },
    ]);
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new InvalidFieldsError(
      subject,
      document.errors.map((error) => ({ field: "yaml", message: oneLine(error.message) })),
    );
  }
  const reader = new YamlReader(document);
  const root = reader.resolve(document.contents);
  if (root === undefined) {
    throw new InvalidFieldsError(subject, [{ field: "yaml", message: "is empty" }]);
  }
  const ignoredFields: string[] = [];
  const fields = new Map<string, YamlValue>();
  for (const [key, value] of reader.entries({ node: root, path: "" })) {
    if (key === "include") {
      reader.problem(
        "include",
        "is not supported: Tailor stores one self-contained definition; inline the included file",
      );
    } else if (TOP_LEVEL_FIELDS.has(key)) {
      fields.set(key, value);
    } else {
      ignoredFields.push(key);
    }
  }

  const contents = readContents(reader, fields.get("contents"), ignoredFields);
  const definition: SourceImageDefinition = {
    packages: contents.packages,
    devPackages: readDevPackages(reader, fields.get("dev"), ignoredFields),
    repositories: contents.repositories,
    keyring: contents.keyring,
    accounts: readAccounts(reader, fields.get("accounts"), ignoredFields),
    entrypoint: readEntrypoint(reader, fields.get("entrypoint")),
    cmd: readCommand(reader, fields.get("cmd")),
    workDir: readWorkDir(reader, fields.get("work-dir")),
    environment: readEnvironment(reader, fields.get("environment")),
    annotations: readAnnotations(reader, fields.get("annotations")),
    archs: readArchs(reader, fields.get("archs")),
  };
  if (reader.problems.length > 0) throw new InvalidFieldsError(subject, reader.problems);
  return { definition, ignoredFields: ignoredFields.sort() };
}

function oneLine(message: string): string {
  return message.split("\n")[0]?.trim() ?? message;
}

function readContents(
  reader: YamlReader,
  value: YamlValue | undefined,
  ignoredFields: string[],
): { packages: string[]; repositories: string[]; keyring: string[] } {
  const result = {
    packages: [] as string[],
    repositories: [] as string[],
    keyring: [] as string[],
  };
  if (value === undefined) {
    reader.problem("contents.packages", "is required: list the image's packages");
    return result;
  }
  let sawPackages = false;
  for (const [key, child] of reader.entries(value)) {
    if (key === "packages") {
      sawPackages = true;
      result.packages = readPackageAtoms(reader, child);
      if (
        result.packages.length === 0 &&
        reader.problems.every((p) => !p.field.startsWith(child.path))
      ) {
        reader.problem(child.path, "must list at least one package");
      }
    } else if (key === "repositories") {
      result.repositories = readNonEmptyStrings(reader, child);
    } else if (key === "keyring") {
      result.keyring = readNonEmptyStrings(reader, child);
    } else {
      ignoredFields.push(child.path);
    }
  }
  if (!sawPackages) reader.problem("contents.packages", "is required: list the image's packages");
  return result;
}

/** A list of apk atoms, each valid and each package named once. */
export function readPackageAtoms(reader: YamlReader, value: YamlValue): string[] {
  const atoms: string[] = [];
  const firstSeen = new Map<string, string>();
  for (const item of reader.items(value)) {
    const text = reader.string(item);
    if (text === undefined) continue;
    const problem = atomProblem(text);
    if (problem !== undefined) {
      reader.problem(item.path, problem);
      continue;
    }
    const name = parseAtom(text.trim()).name;
    const earlier = firstSeen.get(name);
    if (earlier !== undefined) {
      reader.problem(item.path, `package "${name}" is listed twice (also at ${earlier})`);
      continue;
    }
    firstSeen.set(name, item.path);
    atoms.push(text.trim());
  }
  return atoms;
}

/** Why `text` is not one apk atom, or undefined when it is. */
export function atomProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return "must not be empty";
  if (/\s/.test(trimmed)) return `"${text}" must be one package atom, without spaces`;
  try {
    parseAtom(trimmed);
    return undefined;
  } catch (error) {
    return `"${text}" is not a valid apk atom: ${(error as Error).message}`;
  }
}

/** The package name of an atom (`curl` for `!curl>=8`), or undefined when it does not parse. */
export function atomName(text: string): string | undefined {
  try {
    return parseAtom(text.trim()).name;
  } catch {
    return undefined;
  }
}

function readNonEmptyStrings(reader: YamlReader, value: YamlValue): string[] {
  const result: string[] = [];
  for (const item of reader.items(value)) {
    const text = reader.string(item);
    if (text === undefined) continue;
    if (text.trim() === "") reader.problem(item.path, "must not be empty");
    else result.push(text.trim());
  }
  return result;
}

function readDevPackages(
  reader: YamlReader,
  value: YamlValue | undefined,
  ignoredFields: string[],
): string[] {
  if (value === undefined) return [...DEFAULT_DEV_PACKAGES];
  let packages: string[] = [...DEFAULT_DEV_PACKAGES];
  for (const [key, child] of reader.entries(value)) {
    if (key === "packages") packages = readPackageAtoms(reader, child);
    else ignoredFields.push(child.path);
  }
  return packages;
}

function readAccounts(
  reader: YamlReader,
  value: YamlValue | undefined,
  ignoredFields: string[],
): ImageAccounts {
  const users: ImageUser[] = [];
  const groups: ImageGroup[] = [];
  let runAs = "";
  let runAsPath = "accounts.run-as";
  if (value === undefined) return { users, groups, runAs };
  for (const [key, child] of reader.entries(value)) {
    if (key === "users") {
      for (const item of reader.items(child)) {
        const user = readUser(reader, item, ignoredFields);
        if (user !== undefined) users.push(user);
      }
    } else if (key === "groups") {
      for (const item of reader.items(child)) {
        const group = readGroup(reader, item, ignoredFields);
        if (group !== undefined) groups.push(group);
      }
    } else if (key === "run-as") {
      runAs = reader.string(child)?.trim() ?? "";
      runAsPath = child.path;
    } else {
      ignoredFields.push(child.path);
    }
  }
  checkUnique(reader, users, (u) => u.username, "accounts.users", "username", "user name");
  checkUnique(reader, users, (u) => String(u.uid), "accounts.users", "uid", "uid");
  checkUnique(reader, groups, (g) => g.groupname, "accounts.groups", "groupname", "group name");
  checkUnique(reader, groups, (g) => String(g.gid), "accounts.groups", "gid", "gid");
  if (runAs !== "" && !isNumericId(runAs) && !users.some((u) => u.username === runAs)) {
    reader.problem(runAsPath, `"${runAs}" is neither a user of accounts.users nor a numeric uid`);
  }
  return { users, groups, runAs };
}

function checkUnique<T>(
  reader: YamlReader,
  entries: readonly T[],
  keyOf: (entry: T) => string,
  listPath: string,
  field: string,
  what: string,
): void {
  const seen = new Map<string, number>();
  entries.forEach((entry, index) => {
    const key = keyOf(entry);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else
      reader.problem(
        `${listPath}[${index}].${field}`,
        `${what} "${key}" is already used by ${listPath}[${first}]`,
      );
  });
}

function readUser(
  reader: YamlReader,
  value: YamlValue,
  ignoredFields: string[],
): ImageUser | undefined {
  const before = reader.problems.length;
  let username: string | undefined;
  let uid: number | undefined;
  let gid: number | undefined;
  let shell = "";
  let homeDir = "";
  const entries = reader.entries(value);
  for (const [key, child] of entries) {
    if (key === "username") username = readAccountName(reader, child);
    else if (key === "uid") uid = reader.integer(child, 0, MAX_ID);
    else if (key === "gid") gid = reader.integer(child, 0, MAX_ID);
    else if (key === "shell") shell = readPasswdPath(reader, child);
    else if (key === "homedir") homeDir = readPasswdPath(reader, child);
    else ignoredFields.push(child.path);
  }
  requireKeys(reader, value, entries, ["username", "uid"]);
  if (username === undefined || uid === undefined || reader.problems.length > before)
    return undefined;
  // apko gives a user without a gid the group of the same number as its uid.
  return { username, uid, gid: gid ?? uid, shell, homeDir };
}

function readGroup(
  reader: YamlReader,
  value: YamlValue,
  ignoredFields: string[],
): ImageGroup | undefined {
  const before = reader.problems.length;
  let groupname: string | undefined;
  let gid: number | undefined;
  const members: string[] = [];
  const entries = reader.entries(value);
  for (const [key, child] of entries) {
    if (key === "groupname") groupname = readAccountName(reader, child);
    else if (key === "gid") gid = reader.integer(child, 0, MAX_ID);
    else if (key === "members") {
      for (const item of reader.items(child)) {
        const member = readAccountName(reader, item);
        if (member !== undefined) members.push(member);
      }
    } else ignoredFields.push(child.path);
  }
  requireKeys(reader, value, entries, ["groupname", "gid"]);
  if (groupname === undefined || gid === undefined || reader.problems.length > before) {
    return undefined;
  }
  return { groupname, gid, members };
}

/** Reports each of `keys` missing from a mapping that is one (a wrong type is reported already). */
function requireKeys(
  reader: YamlReader,
  value: YamlValue,
  entries: ReadonlyArray<[string, YamlValue]>,
  keys: readonly string[],
): void {
  if (entries.length === 0 && reader.problems.some((p) => p.field === value.path)) return;
  for (const key of keys) {
    if (!entries.some(([name]) => name === key))
      reader.problem(`${value.path}.${key}`, "is required");
  }
}

function readAccountName(reader: YamlReader, value: YamlValue): string | undefined {
  const name = reader.string(value);
  if (name === undefined) return undefined;
  if (!isValidAccountName(name)) {
    reader.problem(value.path, `"${name}" is not a valid account name: ${ACCOUNT_NAME_RULE}`);
    return undefined;
  }
  return name;
}

function readPasswdPath(reader: YamlReader, value: YamlValue): string {
  const path = reader.string(value);
  if (path === undefined || path === "") return "";
  if (!isSafeAbsolutePath(path)) {
    reader.problem(value.path, `"${path}" must be an absolute path without ':' or line breaks`);
    return "";
  }
  return path;
}

function readEntrypoint(reader: YamlReader, value: YamlValue | undefined): string[] {
  if (value === undefined) return [];
  let command: string[] = [];
  let given: string | undefined;
  for (const [key, child] of reader.entries(value)) {
    if (key === "command" || key === "shell-fragment") {
      const text = reader.string(child);
      if (text === undefined || text.trim() === "") continue;
      if (given !== undefined) {
        reader.problem(child.path, `cannot be combined with entrypoint.${given}: give one of them`);
        continue;
      }
      given = key;
      if (key === "shell-fragment") command = ["/bin/sh", "-c", text];
      else command = readArgv(reader, child, text);
    } else if (key === "type") {
      const type = reader.string(child);
      if (type !== undefined && type !== "") {
        reader.problem(
          child.path,
          `"${type}" is not supported: Tailor images run one process; use entrypoint.command`,
        );
      }
    } else if (key === "services") {
      reader.problem(
        child.path,
        "is not supported: Tailor images run one process; use entrypoint.command",
      );
    } else {
      reader.problem(
        child.path,
        "is not a field of entrypoint: use entrypoint.command or entrypoint.shell-fragment",
      );
    }
  }
  return command;
}

function readCommand(reader: YamlReader, value: YamlValue | undefined): string[] {
  if (value === undefined) return [];
  const text = reader.string(value);
  if (text === undefined || text.trim() === "") return [];
  return readArgv(reader, value, text);
}

function readArgv(reader: YamlReader, value: YamlValue, text: string): string[] {
  try {
    return splitCommand(text);
  } catch (error) {
    if (!(error instanceof CommandSyntaxError)) throw error;
    reader.problem(value.path, `"${text}" cannot be split into arguments: it ${error.message}`);
    return [];
  }
}

function readWorkDir(reader: YamlReader, value: YamlValue | undefined): string {
  if (value === undefined) return "";
  const path = reader.string(value);
  if (path === undefined || path === "") return "";
  if (!path.startsWith("/") || /[\n\r\0]/.test(path)) {
    reader.problem(value.path, `"${path}" must be an absolute path`);
    return "";
  }
  return path;
}

function readEnvironment(reader: YamlReader, value: YamlValue | undefined): Record<string, string> {
  if (value === undefined) return {};
  const environment = reader.stringMap(value);
  for (const name of Object.keys(environment)) {
    if (!ENVIRONMENT_NAME.test(name)) {
      reader.problem(
        `environment.${name}`,
        `"${name}" is not a valid variable name: use letters, digits and '_', not starting with a digit`,
      );
    }
  }
  return sortedRecord(environment);
}

function readAnnotations(reader: YamlReader, value: YamlValue | undefined): Record<string, string> {
  if (value === undefined) return {};
  return sortedRecord(reader.stringMap(value));
}

function readArchs(reader: YamlReader, value: YamlValue | undefined): string[] {
  if (value === undefined) return [...DEFAULT_ARCHES];
  const archs = new Set<string>();
  for (const item of reader.items(value)) {
    const name = reader.string(item);
    if (name === undefined) continue;
    const arch = normalizeArch(name);
    if (arch === undefined) {
      const hint = name === "all" || name === "host" ? ": list the architectures instead" : "";
      reader.problem(item.path, `"${name}" is not an architecture Tailor builds${hint}`);
      continue;
    }
    archs.add(arch);
  }
  const problemsInArchs = reader.problems.some((p: FieldProblem) => p.field.startsWith("archs"));
  if (archs.size === 0 && !problemsInArchs) return [...DEFAULT_ARCHES];
  return [...archs].sort();
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}
