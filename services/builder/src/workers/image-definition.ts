import type { Accounts, ImageDefinition } from "@tailor/assembly";
import { mergeImageDefinitions } from "@tailor/assembly";
import type { catalogV1 } from "@tailor/proto";

function accountsOf(accounts: catalogV1.Accounts | undefined): Accounts | undefined {
  if (accounts === undefined) return undefined;
  if (accounts.users.length === 0 && accounts.groups.length === 0 && accounts.runAs === "") {
    return undefined;
  }
  return {
    users: accounts.users.map((user) => ({
      username: user.username,
      uid: user.uid,
      gid: user.gid,
      ...(user.shell === "" ? {} : { shell: user.shell }),
      ...(user.homeDir === "" ? {} : { homedir: user.homeDir }),
    })),
    groups: accounts.groups.map((group) => ({
      groupname: group.groupname,
      gid: group.gid,
      members: [...group.members],
    })),
    ...(accounts.runAs === "" ? {} : { runAs: accounts.runAs }),
  };
}

function nonEmpty<T>(items: readonly T[]): T[] | undefined {
  return items.length === 0 ? undefined : [...items];
}

function record(map: Record<string, string>): Record<string, string> | undefined {
  return Object.keys(map).length === 0 ? undefined : { ...map };
}

/**
 * The image definition of one variant of a custom image: the source image's
 * run configuration and accounts with the overlay merged in. Runtime
 * repositories are the overlay's; the `-dev` variant also lists the
 * organization's private repository when its base URL is configured, and
 * trusts that repository's keys.
 */
export function imageDefinitionFor(input: {
  sourceImage: catalogV1.SourceImage;
  overlay: catalogV1.Overlay | undefined;
  variant: "image" | "dev";
  orgName: string;
  apkRepositoryUrl: string | undefined;
  /** Public keys of the organization's private repository (installed in the -dev variant). */
  repositoryKeys?: readonly { name: string; pem: string }[];
}): ImageDefinition {
  const { sourceImage, overlay } = input;
  const source: ImageDefinition = {};
  const entrypoint = nonEmpty(sourceImage.entrypoint);
  if (entrypoint !== undefined) source.entrypoint = entrypoint;
  const cmd = nonEmpty(sourceImage.cmd);
  if (cmd !== undefined) source.cmd = cmd;
  if (sourceImage.workDir !== "") source.workDir = sourceImage.workDir;
  const env = record(sourceImage.environment);
  if (env !== undefined) source.env = env;
  const annotations = record(sourceImage.annotations);
  if (annotations !== undefined) source.annotations = annotations;
  const accounts = accountsOf(sourceImage.accounts);
  if (accounts !== undefined) source.accounts = accounts;

  const added: ImageDefinition = {};
  if (overlay !== undefined) {
    const overlayEnv = record(overlay.environment);
    if (overlayEnv !== undefined) added.env = overlayEnv;
    const overlayAnnotations = record(overlay.annotations);
    if (overlayAnnotations !== undefined) added.annotations = overlayAnnotations;
    const overlayAccounts = accountsOf(overlay.accounts);
    if (overlayAccounts !== undefined) added.accounts = overlayAccounts;
    const certificates = nonEmpty(overlay.certificates.map((certificate) => certificate.pem));
    if (certificates !== undefined) added.certificates = certificates;
    const keys = nonEmpty(overlay.keys.map((key) => ({ name: key.name, pem: key.pem })));
    if (keys !== undefined) added.keys = keys;
  }
  const repositories = [...(overlay?.repositories ?? [])];
  if (input.variant === "dev" && input.apkRepositoryUrl !== undefined) {
    repositories.unshift(`${input.apkRepositoryUrl.replace(/\/+$/, "")}/${input.orgName}`);
    const repositoryKeys = input.repositoryKeys ?? [];
    if (repositoryKeys.length > 0) added.keys = [...repositoryKeys, ...(added.keys ?? [])];
  }
  if (repositories.length > 0) added.repositories = repositories;
  return mergeImageDefinitions(source, added);
}
