/** A streaming tar writer over layer entries. */
import { InvalidLayerEntryError } from "./errors.js";
import {
  END_OF_ARCHIVE,
  encodeLayerEntryHeader,
  type LayerEntry,
  paddingAfter,
  prepareLayerEntry,
} from "./layer-entry.js";

/**
 * The tar archive of `entries` as a stream of chunks: for each entry, in the
 * given order, its headers, its content (passed through, never copied or
 * buffered) and padding; then the two zero blocks that end an archive (no
 * record padding, as Go's archive/tar). Entries are pulled one at a time, so
 * content streams from the source at the consumer's pace.
 * @throws InvalidLayerEntryError for a bad entry or when streamed data does not add up to `size`.
 */
export async function* createTarStream(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const entry of entries) {
    const prepared = prepareLayerEntry(entry);
    yield encodeLayerEntryHeader(prepared);
    if (prepared.size === 0) continue;
    const data = entry.data;
    if (data instanceof Uint8Array) {
      yield data;
    } else if (data !== undefined) {
      let written = 0;
      for await (const chunk of data) {
        written += chunk.length;
        if (written > prepared.size) {
          throw new InvalidLayerEntryError(
            entry.path,
            `data is longer than its declared size ${prepared.size}`,
          );
        }
        if (chunk.length > 0) yield chunk;
      }
      if (written < prepared.size) {
        throw new InvalidLayerEntryError(
          entry.path,
          `data ended after ${written} of its declared ${prepared.size} bytes`,
        );
      }
    }
    const padding = paddingAfter(prepared.size);
    if (padding.length > 0) yield padding;
  }
  yield END_OF_ARCHIVE;
}
