import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Bus, ConsumerMessage, ConsumerSpec, Delivery } from "@tailor/bus";
import { consumers, events } from "@tailor/bus";
import type { Kysely } from "@tailor/db";
import type { Logger } from "@tailor/log";
import type { BuildEvent } from "../builds/merge-build-event.js";
import type { HistoryDatabase } from "../store/history.table.js";
import { applyBuildEvent, ConcurrentInsertError, insertLogLines } from "../store/history-store.js";
import type { LogNotifier } from "./log-notifier.js";

type HistoryMessage = ConsumerMessage<typeof consumers.historyBuildEvents>;

/** What the recorder needs. */
export interface BuildEventRecorderDependencies {
  readonly db: Kysely<HistoryDatabase>;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly notifier: LogNotifier;
  /** @default consumers.historyBuildEvents */
  readonly consumer?: ConsumerSpec<HistoryMessage>;
}

/** Deliveries handled at once (log lines arrive in bursts). */
const CONCURRENCY = 32;

function at(time: Timestamp | undefined, fallback: Date): Date {
  return time === undefined ? fallback : timestampDate(time);
}

/** The build event a delivery carries, or undefined for a log line. */
function toBuildEvent(delivery: Delivery<HistoryMessage>): BuildEvent | undefined {
  const published = delivery.publishedAt;
  if (delivery.is(events.buildQueued)) {
    const m = delivery.message;
    return {
      kind: "queued",
      buildId: m.buildId,
      orgId: m.orgId,
      customImage: m.customImage,
      revision: m.revision,
      trigger: m.trigger,
      at: at(m.occurredAt, published),
    };
  }
  if (delivery.is(events.buildStarted)) {
    const m = delivery.message;
    return {
      kind: "started",
      buildId: m.buildId,
      orgId: m.orgId,
      worker: m.worker,
      at: at(m.occurredAt, published),
    };
  }
  if (delivery.is(events.buildSucceeded)) {
    const m = delivery.message;
    return {
      kind: "succeeded",
      buildId: m.buildId,
      orgId: m.orgId,
      digests: m.digests,
      tags: m.tags,
      durationMs: Number(m.durationMs),
      upToDate: m.upToDate,
      version: m.version,
      at: at(m.occurredAt, published),
    };
  }
  if (delivery.is(events.buildFailed)) {
    const m = delivery.message;
    return {
      kind: "failed",
      buildId: m.buildId,
      orgId: m.orgId,
      code: m.reason,
      message: m.message,
      at: at(m.occurredAt, published),
    };
  }
  if (delivery.is(events.buildCancelled)) {
    const m = delivery.message;
    return {
      kind: "cancelled",
      buildId: m.buildId,
      orgId: m.orgId,
      at: at(m.occurredAt, published),
    };
  }
  return undefined;
}

/**
 * Records every build event of the durable `build-history` consumer: build
 * lifecycle events are merged into the build's record, log lines stored by
 * (build, seq). Redelivered, duplicated and reordered events change nothing
 * (see mergeBuildEvent); a failed write is redelivered.
 */
export function startBuildEventRecorder(deps: BuildEventRecorderDependencies): {
  stop(): Promise<void>;
} {
  const stopping = new AbortController();
  const logger = deps.logger.child({ component: "build-event-recorder" });
  const inFlight = new Set<Promise<void>>();

  async function record(delivery: Delivery<HistoryMessage>): Promise<void> {
    if (delivery.is(events.buildLog)) {
      const m = delivery.message;
      await insertLogLines(deps.db, [
        {
          buildId: m.buildId,
          seq: Number(m.seq),
          time: at(m.time, delivery.publishedAt),
          level: m.level,
          step: m.step,
          text: m.text,
        },
      ]);
      deps.notifier.notify(m.buildId);
      return;
    }
    const event = toBuildEvent(delivery);
    if (event === undefined) return;
    await applyBuildEvent(deps.db, event);
    deps.notifier.notify(event.buildId);
  }

  async function handle(delivery: Delivery<HistoryMessage>): Promise<void> {
    try {
      await record(delivery);
      await delivery.ack();
    } catch (error) {
      if (error instanceof ConcurrentInsertError) {
        delivery.nak(0, error.message);
        return;
      }
      logger.warn(
        { err: error, subject: delivery.subject },
        "build event not recorded; redelivering",
      );
      delivery.nak(1_000, error instanceof Error ? error.message : String(error));
    }
  }

  const loop = (async () => {
    try {
      for await (const delivery of deps.bus.consume(deps.consumer ?? consumers.historyBuildEvents, {
        concurrency: CONCURRENCY,
        signal: stopping.signal,
      })) {
        const work = handle(delivery);
        inFlight.add(work);
        void work.finally(() => inFlight.delete(work));
      }
    } catch (error) {
      if (!stopping.signal.aborted) logger.error({ err: error }, "build event recorder stopped");
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await loop;
      await Promise.all(inFlight);
    },
  };
}
