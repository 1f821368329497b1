import type { IndexEntry } from "@tailor/apk";

/** A stored package as a diff sees it. */
export interface StoredEntry {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly checksum: string;
}

/** How an index differs from what is stored for its arch. */
export interface IndexDiff {
  /** Entries not stored yet, or stored with another checksum (a rebuilt package). */
  readonly added: readonly IndexEntry[];
  /** Ids of stored packages the index no longer lists (or lists with another checksum). */
  readonly removedIds: readonly string[];
  /** Entries stored already with the same checksum. */
  readonly unchanged: number;
  /** Entries dropped because the index lists the same name and version twice (the first is kept). */
  readonly duplicates: number;
}

const key = (name: string, version: string) => `${name}\0${version}`;

/**
 * Compares an index with the stored packages of the same repository arch by
 * (name, version, checksum). Applying the diff twice changes nothing the
 * second time, which is what makes a retried sync publish nothing new.
 */
export function diffIndex(
  stored: readonly StoredEntry[],
  entries: readonly IndexEntry[],
): IndexDiff {
  const incoming = new Map<string, IndexEntry>();
  let duplicates = 0;
  for (const entry of entries) {
    const k = key(entry.name, entry.version);
    if (incoming.has(k)) duplicates++;
    else incoming.set(k, entry);
  }
  const storedByKey = new Map(stored.map((row) => [key(row.name, row.version), row]));
  const added: IndexEntry[] = [];
  let unchanged = 0;
  for (const [k, entry] of incoming) {
    const existing = storedByKey.get(k);
    if (existing !== undefined && existing.checksum === entry.checksum) unchanged++;
    else added.push(entry);
  }
  const removedIds: string[] = [];
  for (const [k, row] of storedByKey) {
    const entry = incoming.get(k);
    if (entry === undefined || entry.checksum !== row.checksum) removedIds.push(row.id);
  }
  return { added, removedIds, unchanged, duplicates };
}
