import type { Kysely } from "@tailor/db";
import type { Logger } from "@tailor/log";
import type { OutboxRelay } from "@tailor/outbox";
import type { Build } from "../builds/build.js";
import type { BuildLogLine } from "../events/build-events.js";
import { enqueueBuildLogLines } from "../events/build-events.js";
import { saveLogSeq } from "../store/build-store.js";
import type { BuilderDatabase } from "../store/builder-database.js";

/** How often buffered log lines are written while a build runs. */
const FLUSH_INTERVAL_MS = 250;

/**
 * A running build's log: lines get consecutive sequence numbers continuing
 * from earlier attempts, are buffered, and go out as tailor.build.log through
 * the outbox (with the highest sequence number, in one transaction), so they
 * keep their order relative to the build's other events.
 */
export class BuildLog {
  readonly #db: Kysely<BuilderDatabase>;
  readonly #events: OutboxRelay;
  readonly #build: Pick<Build, "id" | "orgId">;
  readonly #logger: Logger;
  readonly #now: () => Date;
  #seq: number;
  #pending: BuildLogLine[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: {
    db: Kysely<BuilderDatabase>;
    events: OutboxRelay;
    build: Pick<Build, "id" | "orgId" | "logSeq">;
    logger: Logger;
    now: () => Date;
  }) {
    this.#db = options.db;
    this.#events = options.events;
    this.#build = options.build;
    this.#logger = options.logger;
    this.#now = options.now;
    this.#seq = options.build.logSeq;
  }

  /** Adds a line. */
  line(level: BuildLogLine["level"], step: string, text: string): void {
    this.#seq += 1;
    this.#pending.push({ seq: this.#seq, time: this.#now(), level, step, text });
    this.#logger[level === "error" ? "error" : level === "warn" ? "warn" : "debug"](
      { step, seq: this.#seq },
      text,
    );
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush().catch((error: unknown) =>
        this.#logger.warn({ err: error }, "cannot write build log lines; retrying with the next"),
      );
    }, FLUSH_INTERVAL_MS);
  }

  /** Shorthand for an info line. */
  info(step: string, text: string): void {
    this.line("info", step, text);
  }

  /** Writes every buffered line (one at a time: lines never overtake each other). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const run = this.#flushing.then(async () => {
      const lines = this.#pending;
      if (lines.length === 0) return;
      this.#pending = [];
      try {
        await this.#db.transaction().execute(async (trx) => {
          await enqueueBuildLogLines(trx, this.#build, lines);
          await saveLogSeq(trx, this.#build.id, lines[lines.length - 1]?.seq ?? 0);
        });
      } catch (error) {
        this.#pending = [...lines, ...this.#pending];
        throw error;
      }
      await this.#events.flushAfterCommit();
    });
    this.#flushing = run.catch(() => undefined);
    return run;
  }

  /** Stops the timer; buffered lines are dropped unless flushed first. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
