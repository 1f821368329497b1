/**
 * Groups the members reported by readGzipMembers into segments (one member,
 * or all remaining members) and exposes each segment's inflated bytes as
 * one async stream, so a tar reader can consume a segment while hashes of
 * its compressed and inflated bytes are taken on the way.
 */
import type { GzipHeader } from "./gzip-header.js";
import type { GzipEvent, GzipMember } from "./gzip-members.js";

/** Told about every byte of a segment as it passes. */
export interface GzipSegmentObserver {
  /** A member of the segment starts at this input offset. */
  onMemberStart?(index: number, offset: number, header: GzipHeader): void;
  /** Compressed bytes of the segment, in order. */
  onCompressed?(bytes: Uint8Array): void;
  /** Inflated bytes of the segment, in order (the same bytes the stream yields). */
  onData?(bytes: Uint8Array): void;
  /** A member of the segment ended. */
  onMemberEnd?(member: GzipMember): void;
}

/** Cursor over a gzip event stream that hands out one segment at a time. */
export class GzipSegmentReader {
  private readonly events: AsyncIterator<GzipEvent, void, undefined>;
  private pending: GzipEvent | undefined;
  private finished = false;

  constructor(events: AsyncIterable<GzipEvent>) {
    this.events = events[Symbol.asyncIterator]() as AsyncIterator<GzipEvent, void, undefined>;
  }

  /** Whether another member follows (reads ahead by one event). */
  async hasMember(): Promise<boolean> {
    const event = await this.peek();
    return event !== undefined;
  }

  /**
   * The inflated bytes of the next `memberCount` members (`Infinity`: every
   * member left) as one stream. Iterate it to the end to move the cursor past
   * the segment; {@link finishSegment} does so without keeping the bytes.
   */
  segment(memberCount: number, observer: GzipSegmentObserver): AsyncIterable<Uint8Array> {
    // The count lives outside the iterator so a segment read partly, then
    // finished by a second iteration, still ends after its own members.
    const progress = { ended: 0 };
    return {
      [Symbol.asyncIterator]: () => this.iterateSegment(memberCount, observer, progress),
    };
  }

  /** Reads the rest of a segment that a consumer stopped reading early. */
  async finishSegment(segment: AsyncIterable<Uint8Array>): Promise<void> {
    for await (const _ of segment) {
      // The observer still sees (and hashes) every byte.
    }
  }

  /** Stops reading the input (closing it) without consuming the rest. */
  async close(): Promise<void> {
    if (!this.finished) {
      this.finished = true;
      await this.events.return?.();
    }
  }

  private async *iterateSegment(
    memberCount: number,
    observer: GzipSegmentObserver,
    progress: { ended: number },
  ): AsyncGenerator<Uint8Array, void, undefined> {
    while (progress.ended < memberCount) {
      const event = await this.peek();
      if (event === undefined) return;
      this.pending = undefined;
      switch (event.type) {
        case "member-start":
          observer.onMemberStart?.(event.index, event.offset, event.header);
          break;
        case "compressed":
          observer.onCompressed?.(event.bytes);
          break;
        case "data":
          observer.onData?.(event.bytes);
          yield event.bytes;
          break;
        case "member-end":
          observer.onMemberEnd?.(event.member);
          progress.ended++;
          break;
      }
    }
  }

  private async peek(): Promise<GzipEvent | undefined> {
    if (this.pending !== undefined) return this.pending;
    if (this.finished) return undefined;
    const next = await this.events.next();
    if (next.done === true) {
      this.finished = true;
      return undefined;
    }
    this.pending = next.value;
    return this.pending;
  }
}
