/** What registry storage records about images: repositories, manifests, blobs, tags. */

/** A blob or manifest as a repository references it. */
export interface StoredBlob {
  digest: string;
  mediaType: string;
  size: number;
}

/** A tag and the manifest (or index) it points at. */
export interface Tag {
  name: string;
  digest: string;
  buildId: string;
  updatedAt: Date;
}

/** One change of a tag. */
export interface TagMove {
  tag: string;
  /** "" when the move created the tag. */
  fromDigest: string;
  toDigest: string;
  buildId: string;
  movedAt: Date;
}

/** A repository: `<org name>/<custom image>`. */
export interface Repository {
  name: string;
  orgId: string;
  customImage: string;
}

/** The repository name of an organization's custom image. */
export function repositoryName(orgName: string, customImage: string): string {
  return `${orgName}/${customImage}`;
}
