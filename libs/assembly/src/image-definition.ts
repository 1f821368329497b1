/**
 * What a user asks of an image beyond its packages: run configuration,
 * accounts, certificates, apk settings. A custom image is its source
 * image's definition with an overlay merged in ({@link mergeImageDefinitions}).
 */

/** A user account of `/etc/passwd`. */
export interface AccountUser {
  /** Login name. */
  username: string;
  /** Numeric user id. */
  uid: number;
  /** Primary group id. @default the uid */
  gid?: number;
  /** GECOS field. @default "" */
  gecos?: string;
  /** Home directory, created when no package has it. @default /home/<username> */
  homedir?: string;
  /** Login shell. @default /sbin/nologin */
  shell?: string;
}

/** A group of `/etc/group`. */
export interface AccountGroup {
  /** Group name. */
  groupname: string;
  /** Numeric group id. */
  gid: number;
  /** Member user names. @default [] */
  members?: string[];
}

/** Accounts to add to the image and who the container runs as. */
export interface Accounts {
  /** Users, added to (or replacing same-named entries of) the packaged `/etc/passwd`. */
  users?: AccountUser[];
  /** Groups, added to (or replacing same-named entries of) the packaged `/etc/group`. */
  groups?: AccountGroup[];
  /** The config's `User`: a name, a uid or `uid:gid`. */
  runAs?: string;
}

/** A trusted apk signing key written to `/etc/apk/keys/<name>`. */
export interface ApkKey {
  /** File name, e.g. `alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`. */
  name: string;
  /** PEM text. */
  pem: string;
}

/** Everything about an image except its packages. */
export interface ImageDefinition {
  /** `Entrypoint`. */
  entrypoint?: string[];
  /** `Cmd`. */
  cmd?: string[];
  /** `WorkingDir`. */
  workDir?: string;
  /** Environment; `PATH` defaults to the usual system path when absent. */
  env?: Record<string, string>;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** Config labels. */
  labels?: Record<string, string>;
  /** `StopSignal`. */
  stopSignal?: string;
  /** Users, groups, run-as. */
  accounts?: Accounts;
  /** PEM certificates appended to the CA bundle `/etc/ssl/certs/ca-certificates.crt`. */
  certificates?: string[];
  /** Lines of `/etc/apk/repositories` at run time. */
  repositories?: string[];
  /** Keys for `/etc/apk/keys`. */
  keys?: ApkKey[];
  /** Atoms of `/etc/apk/world`. @default the names of all packages */
  world?: string[];
}

/** `PATH` of an image whose definition sets none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The source image's definition with a customization's overlay: scalars and
 * lists the overlay sets replace the source's (entrypoint, cmd, work dir,
 * stop signal, run-as, repositories); maps merge with the overlay winning
 * (env, annotations, labels); users, groups and keys merge by name;
 * certificates and world atoms are added (duplicates dropped).
 */
export function mergeImageDefinitions(
  source: ImageDefinition,
  overlay: ImageDefinition,
): ImageDefinition {
  const out: ImageDefinition = { ...source };
  if (overlay.entrypoint !== undefined) out.entrypoint = [...overlay.entrypoint];
  if (overlay.cmd !== undefined) out.cmd = [...overlay.cmd];
  if (overlay.workDir !== undefined) out.workDir = overlay.workDir;
  if (overlay.stopSignal !== undefined) out.stopSignal = overlay.stopSignal;
  if (overlay.repositories !== undefined) out.repositories = [...overlay.repositories];
  for (const key of ["env", "annotations", "labels"] as const) {
    const merged = { ...source[key], ...overlay[key] };
    if (source[key] !== undefined || overlay[key] !== undefined) out[key] = merged;
  }
  if (source.accounts !== undefined || overlay.accounts !== undefined) {
    const accounts: Accounts = {
      users: mergeByName(source.accounts?.users, overlay.accounts?.users, (u) => u.username),
      groups: mergeByName(source.accounts?.groups, overlay.accounts?.groups, (g) => g.groupname),
    };
    const runAs = overlay.accounts?.runAs ?? source.accounts?.runAs;
    if (runAs !== undefined) accounts.runAs = runAs;
    out.accounts = accounts;
  }
  if (source.keys !== undefined || overlay.keys !== undefined) {
    out.keys = mergeByName(source.keys, overlay.keys, (key) => key.name);
  }
  for (const key of ["certificates", "world"] as const) {
    if (source[key] !== undefined || overlay[key] !== undefined) {
      out[key] = [...new Set([...(source[key] ?? []), ...(overlay[key] ?? [])])];
    }
  }
  return out;
}

function mergeByName<T>(
  base: readonly T[] | undefined,
  overlay: readonly T[] | undefined,
  name: (item: T) => string,
): T[] {
  const merged = new Map<string, T>();
  for (const item of base ?? []) merged.set(name(item), item);
  for (const item of overlay ?? []) merged.set(name(item), item);
  return [...merged.values()];
}
