/**
 * The apko-style image YAML `tailorctl build` reads: the fields Tailor's
 * assembly uses, checked with errors that name the field
 * (`contents.packages[2]`, `accounts.users[0].uid`).
 */
import { parseAtom } from "@tailor/apk";
import type { AccountGroup, AccountUser, ImageDefinition } from "@tailor/assembly";
import { parseDocument } from "yaml";

/** What an image YAML asks for. */
export interface ImageConfig {
  /** `contents.packages`: the world, as apk atoms. */
  packages: string[];
  /** `contents.repositories`, as written (`URL`, `/path`, `@tag URL`). */
  repositories: string[];
  /** `contents.keyring`: key paths or URLs. */
  keyring: string[];
  /** `archs` in apk spelling (`x86_64`, `aarch64`); empty when the YAML names none. */
  archs: string[];
  /** Run configuration and accounts, as assembly takes them. */
  definition: ImageDefinition;
}

/** A field of the image YAML is missing or wrong; the message names it. */
export class ImageConfigError extends Error {
  override readonly name = "ImageConfigError";
  constructor(
    /** The YAML path of the field, e.g. `accounts.users[0].uid` (`yaml` for a syntax error). */
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

const APK_ARCH_BY_NAME: Readonly<Record<string, string>> = {
  x86_64: "x86_64",
  amd64: "x86_64",
  aarch64: "aarch64",
  arm64: "aarch64",
  x86: "x86",
  "386": "x86",
  armv7: "armv7",
  "arm/v7": "armv7",
  armhf: "armhf",
  "arm/v6": "armhf",
  ppc64le: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loongarch64: "loongarch64",
  loong64: "loongarch64",
};

/** The apk spelling of an architecture given as apk or OCI name (`amd64` → `x86_64`), or undefined. */
export function apkArch(name: string): string | undefined {
  return Object.hasOwn(APK_ARCH_BY_NAME, name) ? APK_ARCH_BY_NAME[name] : undefined;
}

/**
 * Parses an apko image configuration: `contents.{packages,repositories,keyring}`,
 * `accounts`, `entrypoint.command` (or `shell-fragment`), `cmd`, `work-dir`,
 * `environment`, `annotations`, `archs`. Other fields are ignored, as the
 * build has no use for them.
 * @throws ImageConfigError naming the first wrong field.
 */
export function parseImageConfig(text: string): ImageConfig {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const [syntax] = document.errors;
  if (syntax !== undefined) {
    throw new ImageConfigError("yaml", syntax.message.split("\n")[0] ?? syntax.message);
  }
  const root: unknown = document.toJS({ maxAliasCount: 100 });
  const top = mapping(root ?? {}, "(document)");
  const contents = top.contents === undefined ? undefined : mapping(top.contents, "contents");
  if (contents?.packages === undefined) {
    throw new ImageConfigError("contents.packages", "is required: list the image's packages");
  }
  const packages = strings(contents.packages, "contents.packages");
  if (packages.length === 0) {
    throw new ImageConfigError("contents.packages", "must list at least one package");
  }
  packages.forEach((atom, index) => {
    try {
      if (/\s/.test(atom)) throw new Error("it holds a space");
      parseAtom(atom);
    } catch (error) {
      throw new ImageConfigError(
        `contents.packages[${index}]`,
        `"${atom}" is not a package atom: ${(error as Error).message}`,
      );
    }
  });

  const definition: ImageDefinition = {};
  const accounts = top.accounts === undefined ? undefined : readAccounts(top.accounts);
  if (accounts !== undefined) definition.accounts = accounts;
  if (top.entrypoint !== undefined) {
    const entrypoint = mapping(top.entrypoint, "entrypoint");
    if (entrypoint.command !== undefined) {
      definition.entrypoint = argv(entrypoint.command, "entrypoint.command");
    } else if (entrypoint["shell-fragment"] !== undefined) {
      definition.entrypoint = [
        "/bin/sh",
        "-c",
        string(entrypoint["shell-fragment"], "entrypoint.shell-fragment"),
      ];
    }
  }
  if (top.cmd !== undefined) definition.cmd = argv(top.cmd, "cmd");
  if (top["work-dir"] !== undefined) {
    const workDir = string(top["work-dir"], "work-dir");
    if (!workDir.startsWith("/"))
      throw new ImageConfigError("work-dir", `"${workDir}" must be an absolute path`);
    definition.workDir = workDir;
  }
  if (top.environment !== undefined) {
    const env = stringMap(top.environment, "environment");
    for (const name of Object.keys(env)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new ImageConfigError(`environment.${name}`, `"${name}" is not a variable name`);
      }
    }
    definition.env = env;
  }
  if (top.annotations !== undefined) {
    definition.annotations = stringMap(top.annotations, "annotations");
  }
  const archs: string[] = [];
  if (top.archs !== undefined) {
    strings(top.archs, "archs").forEach((name, index) => {
      const arch = apkArch(name);
      if (arch === undefined) {
        throw new ImageConfigError(
          `archs[${index}]`,
          `"${name}" is not an architecture Tailor builds`,
        );
      }
      if (!archs.includes(arch)) archs.push(arch);
    });
  }
  return {
    packages,
    repositories:
      contents.repositories === undefined
        ? []
        : strings(contents.repositories, "contents.repositories"),
    keyring: contents.keyring === undefined ? [] : strings(contents.keyring, "contents.keyring"),
    archs,
    definition,
  };
}

function readAccounts(value: unknown): ImageDefinition["accounts"] {
  const accounts = mapping(value, "accounts");
  const users: AccountUser[] = list(accounts.users ?? [], "accounts.users").map((item, index) => {
    const field = `accounts.users[${index}]`;
    const user = mapping(item, field);
    const out: AccountUser = {
      username: accountName(user.username, `${field}.username`),
      uid: id(user.uid, `${field}.uid`),
    };
    if (user.gid !== undefined) out.gid = id(user.gid, `${field}.gid`);
    if (user.shell !== undefined) out.shell = string(user.shell, `${field}.shell`);
    if (user.homedir !== undefined) out.homedir = string(user.homedir, `${field}.homedir`);
    return out;
  });
  const groups: AccountGroup[] = list(accounts.groups ?? [], "accounts.groups").map(
    (item, index) => {
      const field = `accounts.groups[${index}]`;
      const group = mapping(item, field);
      const out: AccountGroup = {
        groupname: accountName(group.groupname, `${field}.groupname`),
        gid: id(group.gid, `${field}.gid`),
      };
      if (group.members !== undefined) {
        out.members = strings(group.members, `${field}.members`).map((member, at) =>
          accountName(member, `${field}.members[${at}]`),
        );
      }
      return out;
    },
  );
  const result: NonNullable<ImageDefinition["accounts"]> = { users, groups };
  if (accounts["run-as"] !== undefined && accounts["run-as"] !== "") {
    const runAs = String(accounts["run-as"]);
    if (!/^\d+(:\d+)?$/.test(runAs) && !users.some((user) => user.username === runAs)) {
      throw new ImageConfigError(
        "accounts.run-as",
        `"${runAs}" is neither a user of accounts.users nor a numeric uid`,
      );
    }
    result.runAs = runAs;
  }
  return result;
}

function mapping(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ImageConfigError(field, "must be a mapping");
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new ImageConfigError(field, "must be a list");
  return value;
}

function string(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new ImageConfigError(field, "must be a string");
}

function strings(value: unknown, field: string): string[] {
  return list(value, field).map((item, index) => {
    const text = string(item, `${field}[${index}]`).trim();
    if (text === "") throw new ImageConfigError(`${field}[${index}]`, "must not be empty");
    return text;
  });
}

function stringMap(value: unknown, field: string): Record<string, string> {
  const entries = Object.entries(mapping(value, field)).map(([key, item]): [string, string] => [
    key,
    string(item, `${field}.${key}`),
  ]);
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function id(value: unknown, field: string): number {
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (
    typeof number !== "number" ||
    !Number.isInteger(number) ||
    number < 0 ||
    number > 4_294_967_294
  ) {
    throw new ImageConfigError(field, "must be a number from 0 to 4294967294");
  }
  return number;
}

function accountName(value: unknown, field: string): string {
  const name = string(value, field);
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name)) {
    throw new ImageConfigError(
      field,
      `"${name}" is not an account name: a lowercase letter or '_' first, then lowercase letters, digits, '_' or '-'`,
    );
  }
  return name;
}

function argv(value: unknown, field: string): string[] {
  if (Array.isArray(value)) return strings(value, field);
  const line = string(value, field);
  try {
    return splitWords(line);
  } catch (error) {
    throw new ImageConfigError(
      field,
      `"${line}" cannot be split into arguments: ${(error as Error).message}`,
    );
  }
}

/** Splits a command line into words as a POSIX shell does (quotes and backslashes, no expansion), as apko does. */
function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index] as string;
    if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (char === "\\") {
      const next = line[index + 1];
      if (next === undefined) throw new Error("it ends with a lone backslash");
      if (next !== "\n") word += next;
      index++;
    } else if (char === "'") {
      const end = line.indexOf("'", index + 1);
      if (end < 0) throw new Error(`unterminated ' quote at character ${index + 1}`);
      word += line.slice(index + 1, end);
      index = end;
    } else if (char === '"') {
      let cursor = index + 1;
      for (;;) {
        const inner = line[cursor];
        if (inner === undefined) throw new Error(`unterminated " quote at character ${index + 1}`);
        if (inner === '"') break;
        const escaped = line[cursor + 1];
        if (inner === "\\" && escaped !== undefined && '"\\$`'.includes(escaped)) {
          word += escaped;
          cursor += 2;
        } else {
          word += inner;
          cursor++;
        }
      }
      index = cursor;
    } else {
      word += char;
    }
  }
  if (inWord) words.push(word);
  return words;
}
