import type { ImageAccounts } from "./accounts.js";

/**
 * What a source image's apko YAML defines, normalized: every default applied,
 * architectures in apk spelling, entrypoint and cmd split into argv. Two YAML
 * texts that differ only in comments, formatting or key order give equal
 * definitions.
 */
export interface SourceImageDefinition {
  /** `contents.packages`: apk atoms, in the order given. */
  readonly packages: readonly string[];
  /** Tailor's `dev.packages`: what the `-dev` variant adds. */
  readonly devPackages: readonly string[];
  /** `contents.repositories`, as written (URLs, optionally `@tag`-prefixed). */
  readonly repositories: readonly string[];
  /** `contents.keyring`: key URLs or paths. */
  readonly keyring: readonly string[];
  readonly accounts: ImageAccounts;
  /** `entrypoint.command` split into argv; empty when none. */
  readonly entrypoint: readonly string[];
  /** `cmd` split into argv; empty when none. */
  readonly cmd: readonly string[];
  /** `work-dir`; empty when none. */
  readonly workDir: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** apk architecture names (`x86_64`, `aarch64`, …), without duplicates. */
  readonly archs: readonly string[];
}

/** A stored source image: one generation of its definition. */
export interface SourceImage {
  readonly name: string;
  /** The package whose version the image carries. */
  readonly mainPackage: string;
  readonly definition: SourceImageDefinition;
  /** The YAML text this generation was defined from. */
  readonly yaml: string;
  /** 1 for the first definition, +1 on each change. */
  readonly generation: number;
  readonly createdAt: Date;
  /** When the current generation was stored. */
  readonly updatedAt: Date;
}

/**
 * What the `-dev` variant adds when the YAML has no `dev` section: a shell
 * and apk itself, so a developer can `apk add` from the org's repository.
 */
export const DEFAULT_DEV_PACKAGES: readonly string[] = ["busybox", "apk-tools"];

/** Lowercase letters, digits, '.', '-', '_'; a letter or digit first; 1 to 63 characters. */
const SOURCE_IMAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** True when `name` can name a source image (it appears in image references). */
export function isValidSourceImageName(name: string): boolean {
  return SOURCE_IMAGE_NAME.test(name);
}

/** The rule {@link isValidSourceImageName} checks, for messages. */
export const SOURCE_IMAGE_NAME_RULE =
  "use 1 to 63 lowercase letters, digits, '.', '-' or '_', starting with a letter or digit";
