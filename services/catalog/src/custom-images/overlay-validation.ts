import { createPublicKey, X509Certificate } from "node:crypto";
import { parseAtom } from "@tailor/apk";
import type { ImageAccounts, ImageGroup, ImageUser } from "../source-images/accounts.js";
import {
  ACCOUNT_NAME_RULE,
  isNumericId,
  isSafeAbsolutePath,
  isValidAccountName,
} from "../source-images/accounts.js";
import type { FieldProblem } from "../source-images/field-problem.js";
import { InvalidFieldsError } from "../source-images/field-problem.js";
import { atomProblem, ENVIRONMENT_NAME } from "../source-images/parse-source-image-yaml.js";
import type { Overlay } from "./custom-image.js";
import { readPemBlocks } from "./pem-blocks.js";
import { nonPublicHostReason } from "./repository-host.js";

/** Total size of an overlay's certificates, in bytes of PEM text. */
export const MAX_CERTIFICATES_BYTES = 50 * 1024;

/** Total size of an overlay's runtime keys, in bytes of PEM text. */
export const MAX_RUNTIME_KEYS_BYTES = 512 * 1024;

/** Smallest RSA key apk inside an image may be told to trust. */
export const MIN_RUNTIME_KEY_BITS = 2048;

/** Lowest and highest uid or gid an overlay may add: 0 is root's, 65535 means "no id" to 16-bit tools. */
export const OVERLAY_ID_RANGE = { min: 1, max: 65534 } as const;

/** Environment variable names Tailor sets itself start with this (any case). */
export const RESERVED_ENVIRONMENT_PREFIX = "TAILOR_";

/** Annotation key prefixes Tailor owns. */
export const RESERVED_ANNOTATION_PREFIXES: readonly string[] = ["dev.tailor."];

/** OCI annotation keys Tailor sets on every image it builds; an overlay cannot override them. */
export const RESERVED_ANNOTATION_KEYS: readonly string[] = [
  "org.opencontainers.image.created",
  "org.opencontainers.image.version",
  "org.opencontainers.image.revision",
  "org.opencontainers.image.ref.name",
  "org.opencontainers.image.base.name",
  "org.opencontainers.image.base.digest",
];

/** Annotation keys: letters, digits and `. _ - /`, a letter or digit first, at most 255 characters. */
const ANNOTATION_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;

/** Certificate names become file names: letters, digits, `. _ -`, a letter or digit first. */
const CERTIFICATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Runtime key names are file names under /etc/apk/keys ending in `.pub`, as apk expects. */
const RUNTIME_KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,250}\.pub$/;

const PRIVATE_KEY_MARKER = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** What an overlay is checked against: its source image, and the end-of-life streams. */
export interface OverlayContext {
  readonly sourceImage: string;
  /** The source image's `contents.packages` atoms. */
  readonly sourcePackages: readonly string[];
  readonly sourceAccounts: ImageAccounts;
  /** Base names of the source image's keyring entries (files under /etc/apk/keys). */
  readonly sourceKeyNames?: readonly string[];
  /**
   * Added package names that only exist in end-of-life versions, with the
   * rule's reason; the caller looks them up before validating.
   */
  readonly endOfLifeOnly?: ReadonlyMap<string, string>;
}

/**
 * Every problem of an overlay, each at its exact request path
 * (`overlay.packages[2]`, `overlay.environment.TAILOR_X`,
 * `overlay.certificates[1].pem`, …), in the order of the overlay's fields.
 * Empty when the overlay is acceptable. Pure: no I/O, no clock.
 */
export function validateOverlay(overlay: Overlay, context: OverlayContext): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const report = (field: string, message: string) => problems.push({ field, message });
  checkPackages(overlay.packages, context, report);
  checkEnvironment(overlay.environment, report);
  checkAnnotations(overlay.annotations, report);
  checkAccounts(overlay.accounts, context, report);
  checkCertificates(overlay.certificates, report);
  checkRepositories(overlay.repositories, report);
  checkRuntimeKeys(overlay.keys, context, report);
  return problems;
}

/**
 * Throws when {@link validateOverlay} finds anything.
 * @throws InvalidFieldsError listing every problem; `field` is the first one's.
 */
export function assertValidOverlay(
  overlay: Overlay,
  context: OverlayContext,
  subject: string,
): void {
  const problems = validateOverlay(overlay, context);
  if (problems.length > 0) throw new InvalidFieldsError(subject, problems);
}

type Report = (field: string, message: string) => void;

function checkPackages(packages: readonly string[], context: OverlayContext, report: Report): void {
  const sourceNames = new Set(context.sourcePackages.map((atom) => parseAtom(atom).name));
  const firstSeen = new Map<string, number>();
  packages.forEach((text, index) => {
    const field = `overlay.packages[${index}]`;
    const problem = atomProblem(text);
    if (problem !== undefined) {
      report(field, problem);
      return;
    }
    const atom = parseAtom(text.trim());
    if (atom.conflict) {
      report(
        field,
        sourceNames.has(atom.name)
          ? `cannot remove package "${atom.name}" of source image "${context.sourceImage}"`
          : `"${text}" would forbid package "${atom.name}": an overlay can only add packages`,
      );
      return;
    }
    if (sourceNames.has(atom.name)) {
      report(
        field,
        atom.op === undefined
          ? `package "${atom.name}" is already part of source image "${context.sourceImage}"`
          : `package "${atom.name}" of source image "${context.sourceImage}" follows the source image's version and cannot be constrained by "${text}"`,
      );
      return;
    }
    if (atom.tag !== undefined) {
      report(
        field,
        `"${text}" names repository tag "@${atom.tag}": packages come from the organization's repository, which has no tags`,
      );
      return;
    }
    if (atom.op === "><") {
      report(field, `"${text}" pins a checksum: pin a version with "=" instead`);
      return;
    }
    const earlier = firstSeen.get(atom.name);
    if (earlier !== undefined) {
      report(
        field,
        `package "${atom.name}" is listed twice (also at overlay.packages[${earlier}])`,
      );
      return;
    }
    firstSeen.set(atom.name, index);
    const endOfLife = context.endOfLifeOnly?.get(atom.name);
    if (endOfLife !== undefined) {
      report(
        field,
        `package "${atom.name}" is end-of-life and has no supported version${endOfLife === "" ? "" : ` (${endOfLife})`}`,
      );
    }
  });
}

function checkEnvironment(environment: Readonly<Record<string, string>>, report: Report): void {
  for (const [name, value] of Object.entries(environment)) {
    const field = `overlay.environment.${name}`;
    if (!ENVIRONMENT_NAME.test(name)) {
      report(
        field,
        `"${name}" is not a valid variable name: use letters, digits and '_', not starting with a digit`,
      );
    } else if (name.toUpperCase().startsWith(RESERVED_ENVIRONMENT_PREFIX)) {
      report(
        field,
        `"${name}" is reserved: names starting with ${RESERVED_ENVIRONMENT_PREFIX} are set by Tailor`,
      );
    } else if (value.includes("\0")) {
      report(field, "the value must not contain NUL characters");
    }
  }
}

function checkAnnotations(annotations: Readonly<Record<string, string>>, report: Report): void {
  for (const key of Object.keys(annotations)) {
    const field = `overlay.annotations.${key}`;
    if (!ANNOTATION_KEY.test(key)) {
      report(
        field,
        `"${key}" is not a valid annotation key: use letters, digits, '.', '_', '-' or '/', at most 255 characters`,
      );
      continue;
    }
    const prefix = RESERVED_ANNOTATION_PREFIXES.find((reserved) => key.startsWith(reserved));
    if (prefix !== undefined) {
      report(field, `"${key}" is reserved: keys starting with "${prefix}" are set by Tailor`);
    } else if (RESERVED_ANNOTATION_KEYS.includes(key)) {
      report(field, `"${key}" is reserved: Tailor sets it on every image it builds`);
    }
  }
}

function checkAccounts(accounts: ImageAccounts, context: OverlayContext, report: Report): void {
  const source = context.sourceAccounts;
  const { min, max } = OVERLAY_ID_RANGE;
  const inRange = (id: number) => Number.isInteger(id) && id >= min && id <= max;
  const usernames = new Map<string, string>();
  const uids = new Map<number, string>();
  for (const user of source.users) {
    usernames.set(user.username, `source image "${context.sourceImage}"`);
    uids.set(user.uid, `user "${user.username}" of source image "${context.sourceImage}"`);
  }
  accounts.users.forEach((user: ImageUser, index) => {
    const path = `overlay.accounts.users[${index}]`;
    if (!isValidAccountName(user.username)) {
      report(
        `${path}.username`,
        `"${user.username}" is not a valid user name: ${ACCOUNT_NAME_RULE}`,
      );
    } else {
      const owner = usernames.get(user.username);
      if (owner !== undefined)
        report(`${path}.username`, `user "${user.username}" is already defined by ${owner}`);
      else usernames.set(user.username, `overlay.accounts.users[${index}]`);
    }
    if (!inRange(user.uid)) {
      report(`${path}.uid`, `must be between ${min} and ${max}, not ${user.uid}`);
    } else {
      const owner = uids.get(user.uid);
      if (owner !== undefined) report(`${path}.uid`, `uid ${user.uid} is already used by ${owner}`);
      else uids.set(user.uid, `overlay.accounts.users[${index}]`);
    }
    if (user.gid !== 0 && !inRange(user.gid)) {
      report(
        `${path}.gid`,
        `must be between ${min} and ${max} (or 0 for the uid's number), not ${user.gid}`,
      );
    }
    if (user.shell !== "" && !isSafeAbsolutePath(user.shell)) {
      report(
        `${path}.shell`,
        `"${user.shell}" must be an absolute path without ':' or line breaks`,
      );
    }
    if (user.homeDir !== "" && !isSafeAbsolutePath(user.homeDir)) {
      report(
        `${path}.home_dir`,
        `"${user.homeDir}" must be an absolute path without ':' or line breaks`,
      );
    }
  });

  const groupnames = new Map<string, string>();
  const gids = new Map<number, string>();
  for (const group of source.groups) {
    groupnames.set(group.groupname, `source image "${context.sourceImage}"`);
    gids.set(group.gid, `group "${group.groupname}" of source image "${context.sourceImage}"`);
  }
  accounts.groups.forEach((group: ImageGroup, index) => {
    const path = `overlay.accounts.groups[${index}]`;
    if (!isValidAccountName(group.groupname)) {
      report(
        `${path}.groupname`,
        `"${group.groupname}" is not a valid group name: ${ACCOUNT_NAME_RULE}`,
      );
    } else {
      const owner = groupnames.get(group.groupname);
      if (owner !== undefined) {
        report(`${path}.groupname`, `group "${group.groupname}" is already defined by ${owner}`);
      } else groupnames.set(group.groupname, `overlay.accounts.groups[${index}]`);
    }
    if (!inRange(group.gid)) {
      report(`${path}.gid`, `must be between ${min} and ${max}, not ${group.gid}`);
    } else {
      const owner = gids.get(group.gid);
      if (owner !== undefined)
        report(`${path}.gid`, `gid ${group.gid} is already used by ${owner}`);
      else gids.set(group.gid, `overlay.accounts.groups[${index}]`);
    }
    group.members.forEach((member, memberIndex) => {
      if (!isValidAccountName(member)) {
        report(
          `${path}.members[${memberIndex}]`,
          `"${member}" is not a valid user name: ${ACCOUNT_NAME_RULE}`,
        );
      }
    });
  });

  const runAs = accounts.runAs.trim();
  if (runAs !== "" && runAs !== "root" && !isNumericId(runAs) && !usernames.has(runAs)) {
    report(
      "overlay.accounts.run_as",
      `"${runAs}" is neither a user of the overlay or of source image "${context.sourceImage}" nor a numeric uid`,
    );
  }
}

function checkCertificates(certificates: Overlay["certificates"], report: Report): void {
  const names = new Map<string, number>();
  let total = 0;
  certificates.forEach((certificate, index) => {
    const path = `overlay.certificates[${index}]`;
    total += Buffer.byteLength(certificate.pem, "utf8");
    if (!CERTIFICATE_NAME.test(certificate.name)) {
      report(
        `${path}.name`,
        `"${certificate.name}" is not a valid certificate name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      );
    } else {
      const earlier = names.get(certificate.name);
      if (earlier !== undefined) {
        report(
          `${path}.name`,
          `certificate name "${certificate.name}" is already used by overlay.certificates[${earlier}]`,
        );
      } else names.set(certificate.name, index);
    }
    const problem = certificateProblem(certificate.pem);
    if (problem !== undefined) report(`${path}.pem`, problem);
  });
  if (total > MAX_CERTIFICATES_BYTES) {
    report(
      "overlay.certificates",
      `certificates total ${total} bytes; the limit is ${MAX_CERTIFICATES_BYTES} bytes`,
    );
  }
}

/** Why `pem` is not a bundle of public X.509 CA certificates, or undefined when it is one. */
export function certificateProblem(pem: string): string | undefined {
  if (PRIVATE_KEY_MARKER.test(pem)) {
    return "contains a private key: add only public certificates, and treat that key as leaked";
  }
  const contents = readPemBlocks(pem);
  if (contents.unterminated !== undefined) {
    return `has a "BEGIN ${contents.unterminated}" without its END line`;
  }
  if (contents.blocks.length === 0) return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
  if (contents.strayLines.length > 0) {
    return `has text outside its PEM blocks ("${truncate(contents.strayLines[0] ?? "")}")`;
  }
  for (const [index, block] of contents.blocks.entries()) {
    const which = contents.blocks.length === 1 ? "the block" : `block ${index + 1}`;
    if (block.label !== "CERTIFICATE") {
      return `${which} is "${block.label}", not a CERTIFICATE`;
    }
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block.text);
    } catch (error) {
      return `${which} is not a valid X.509 certificate (${(error as Error).message})`;
    }
    if (!certificate.ca && !isSelfSigned(certificate)) {
      return `${which} (${oneLine(certificate.subject)}) is neither a CA certificate nor self-signed: add the certificate of the CA that issued it`;
    }
  }
  return undefined;
}

function isSelfSigned(certificate: X509Certificate): boolean {
  try {
    return certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey);
  } catch {
    return false;
  }
}

function checkRepositories(repositories: readonly string[], report: Report): void {
  const seen = new Map<string, number>();
  repositories.forEach((text, index) => {
    const field = `overlay.repositories[${index}]`;
    const problem = repositoryProblem(text);
    if (problem !== undefined) {
      report(field, problem);
      return;
    }
    const key = new URL(text.trim()).href.replace(/\/+$/, "");
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      report(field, `"${text}" is listed twice (also at overlay.repositories[${earlier}])`);
      return;
    }
    seen.set(key, index);
  });
}

/** Why `text` cannot be a runtime repository, or undefined when it can. */
export function repositoryProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return "must not be empty";
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return `"${text}" is not a URL`;
  }
  if (url.protocol !== "https:") return `"${text}" must use https://, not ${url.protocol}//`;
  if (url.username !== "" || url.password !== "") {
    return `"${text}" must not carry credentials: the image would expose them`;
  }
  const reason = nonPublicHostReason(url.hostname);
  if (reason !== undefined) return `"${text}" points at ${reason}, not a public host`;
  if (url.search !== "" || url.hash !== "") return `"${text}" must not have a query or fragment`;
  return undefined;
}

function checkRuntimeKeys(keys: Overlay["keys"], context: OverlayContext, report: Report): void {
  const names = new Map<string, number>();
  const sourceKeyNames = new Set(context.sourceKeyNames ?? []);
  let total = 0;
  keys.forEach((key, index) => {
    const path = `overlay.keys[${index}]`;
    total += Buffer.byteLength(key.pem, "utf8");
    if (!RUNTIME_KEY_NAME.test(key.name) || key.name.includes("..")) {
      report(
        `${path}.name`,
        `"${key.name}" is not a valid key file name: letters, digits, '.', '_', '@' or '-', starting with a letter or digit, ending in ".pub", without ".."`,
      );
    } else if (sourceKeyNames.has(key.name)) {
      report(
        `${path}.name`,
        `"${key.name}" is already a key of source image "${context.sourceImage}"`,
      );
    } else {
      const earlier = names.get(key.name);
      if (earlier !== undefined) {
        report(
          `${path}.name`,
          `key name "${key.name}" is already used by overlay.keys[${earlier}]`,
        );
      } else names.set(key.name, index);
    }
    const problem = runtimeKeyProblem(key.pem);
    if (problem !== undefined) report(`${path}.pem`, problem);
  });
  if (total > MAX_RUNTIME_KEYS_BYTES) {
    report(
      "overlay.keys",
      `keys total ${total} bytes; the limit is ${MAX_RUNTIME_KEYS_BYTES} bytes`,
    );
  }
}

/** Why `pem` is not exactly one PEM RSA public key apk can use, or undefined when it is one. */
export function runtimeKeyProblem(pem: string): string | undefined {
  if (PRIVATE_KEY_MARKER.test(pem)) {
    return "contains a private key: add only the public key, and treat that key as leaked";
  }
  const contents = readPemBlocks(pem);
  if (contents.unterminated !== undefined) {
    return `has a "BEGIN ${contents.unterminated}" without its END line`;
  }
  if (contents.blocks.length !== 1) {
    return `must hold exactly one PEM public key, not ${contents.blocks.length} PEM blocks`;
  }
  if (contents.strayLines.length > 0) {
    return `has text outside its PEM block ("${truncate(contents.strayLines[0] ?? "")}")`;
  }
  const block = contents.blocks[0];
  // apk reads keys with PEM_read_bio_PUBKEY: SubjectPublicKeyInfo ("PUBLIC KEY") only.
  if (block === undefined || block.label !== "PUBLIC KEY") {
    return `is a "${block?.label ?? ""}" block, not a PUBLIC KEY (SubjectPublicKeyInfo) as apk reads it`;
  }
  try {
    const key = createPublicKey(block.text);
    if (key.asymmetricKeyType !== "rsa") {
      return `is an ${key.asymmetricKeyType ?? "unknown"} key: apk verifies signatures with RSA keys only`;
    }
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RUNTIME_KEY_BITS) {
      return `is a ${bits}-bit RSA key: use at least ${MIN_RUNTIME_KEY_BITS} bits`;
    }
  } catch (error) {
    return `is not a valid public key (${(error as Error).message})`;
  }
  return undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ", ");
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
