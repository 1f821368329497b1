import { hostname } from "node:os";
import { fromBinary } from "@bufbuild/protobuf";
import type { LayerCache } from "@tailor/assembly";
import type { ConsumerSpec, Delivery } from "@tailor/bus";
import { events } from "@tailor/bus";
import { TailorError } from "@tailor/grpc";
import type { eventsV1 } from "@tailor/proto";
import type { BuilderDependencies } from "../builder-dependencies.js";
import type { Build } from "../builds/build.js";
import { isTerminal } from "../builds/build.js";
import { BuildFailure } from "../builds/errors.js";
import { enqueueBuildFailed, enqueueBuildStarted } from "../events/build-events.js";
import { buildStatus, findBuild, finishBuild, startAttempt } from "../store/build-store.js";
import type { Assembler, BuildCheckpoint } from "./build-execution.js";
import { executeBuild } from "./build-execution.js";
import { BuildLog } from "./build-log.js";
import type { PackageCache } from "./package-cache.js";

/** Options of {@link startBuildWorkers}. */
export interface BuildWorkersOptions {
  /** The work-queue consumer (`consumers.builderWorkers`; tests shorten its ack wait). */
  readonly consumer: ConsumerSpec<eventsV1.BuildJob>;
  /** Builds run at once by this process. */
  readonly concurrency: number;
  readonly packages: PackageCache;
  readonly layers: LayerCache;
  readonly assemble: Assembler;
  /** A build running longer fails with reason "timeout". */
  readonly timeoutMs: number;
  /** Names this process in tailor.build.started. */
  readonly workerName?: string;
  /** Tests stop a build here as if its worker had been killed (no ack, no further writes). */
  readonly checkpoint?: (
    buildId: string,
    step: BuildCheckpoint,
    attempt: number,
  ) => Promise<"continue" | "abandon">;
}

/** Why a running build stopped early. */
class BuildCancelled extends Error {
  override readonly name = "BuildCancelled";
}

/** How long a transient failure waits before the job is redelivered. */
const RETRY_DELAY_MS = 2_000;

/**
 * Runs build jobs from the shared work queue until stopped: each job is one
 * build (started event, execution, end event) acknowledged only after its
 * end is committed. Builds that cannot succeed end as failed builds; other
 * errors are retried until the consumer's deliveries run out; a job whose
 * worker died on every delivery is dead-lettered by the bus and its build
 * failed with reason "worker_lost".
 */
export function startBuildWorkers(
  deps: BuilderDependencies,
  options: BuildWorkersOptions,
): { stop(): Promise<void> } {
  const stopping = new AbortController();
  const running = new Set<Promise<void>>();
  const worker = options.workerName ?? `${hostname()}:${process.pid}`;
  const logger = deps.logger.child({ component: "build-worker", worker });

  const stopListening = deps.bus.deadLetters.on((letter) => {
    if (letter.consumer !== options.consumer.name) return;
    let job: eventsV1.BuildJob;
    try {
      job = fromBinary(events.buildJob.schema, letter.data);
    } catch {
      return;
    }
    void failBuild(
      deps,
      job.buildId,
      new BuildFailure(
        "worker_lost",
        `the build's worker stopped ${letter.deliveries - 1} times before finishing (${letter.reason})`,
      ),
    ).catch((error: unknown) =>
      logger.error({ err: error, buildId: job.buildId }, "cannot record a lost build as failed"),
    );
  });

  async function handle(delivery: Delivery<eventsV1.BuildJob>): Promise<void> {
    const job = delivery.message;
    const jobLogger = logger.child({ buildId: job.buildId, org: job.orgId });
    const existing = await findBuild(deps.db, job.buildId);
    if (existing === undefined) {
      await delivery.term(`build ${job.buildId} does not exist`);
      return;
    }
    if (isTerminal(existing.status)) {
      // A redelivery after the end was committed: nothing left to do.
      await delivery.ack();
      return;
    }
    const build = await deps.db.transaction().execute(async (trx) => {
      const started = await startAttempt(trx, job.buildId, worker, deps.now());
      if (started !== undefined) await enqueueBuildStarted(trx, started, worker, deps.now());
      return started;
    });
    if (build === undefined) {
      await delivery.ack();
      return;
    }
    await deps.events.flushAfterCommit();

    const controller = new AbortController();
    const log = new BuildLog({
      db: deps.db,
      events: deps.events,
      build,
      logger: jobLogger,
      now: deps.now,
    });
    if (build.attempts > 1) log.info("prepare", `attempt ${build.attempts} (picked up again)`);
    let abandoned = false;
    const heartbeatMs = Math.max(200, Math.min(options.consumer.ackWaitMs / 3, 10_000));
    const heartbeat = setInterval(() => {
      if (abandoned) return;
      delivery.working();
      void buildStatus(deps.db, build.id)
        .then((status) => {
          if (status === "cancelled") controller.abort(new BuildCancelled("cancelled"));
        })
        .catch(() => undefined);
    }, heartbeatMs);
    const timeout = setTimeout(
      () =>
        controller.abort(
          new BuildFailure(
            "timeout",
            `the build ran longer than ${Math.round(options.timeoutMs / 1000)} seconds`,
          ),
        ),
      options.timeoutMs,
    );
    try {
      const outcome = await executeBuild({
        deps,
        build,
        log,
        logger: jobLogger,
        signal: controller.signal,
        packages: options.packages,
        layers: options.layers,
        assemble: options.assemble,
        checkpoint: async (step) => {
          const answer = (await options.checkpoint?.(build.id, step, build.attempts)) ?? "continue";
          if (answer === "abandon") abandoned = true;
          return answer;
        },
      });
      if (outcome === "abandoned") {
        jobLogger.warn("build abandoned without acknowledging its job (as if the worker died)");
        return;
      }
      await delivery.ack();
    } catch (error) {
      const reason = controller.signal.reason;
      if (reason instanceof BuildCancelled) {
        log.info("cancel", "the build was cancelled");
        await log.flush().catch(() => undefined);
        await delivery.ack();
        return;
      }
      const failure =
        error instanceof BuildFailure ? error : reason instanceof BuildFailure ? reason : undefined;
      if (failure !== undefined) {
        await recordFailure(log, failure);
        await failBuild(deps, build.id, failure);
        await delivery.ack();
        return;
      }
      const message = describe(error);
      if (delivery.deliveryCount >= options.consumer.maxDeliver) {
        const final = new BuildFailure(
          "internal_error",
          `the build failed ${delivery.deliveryCount} times; last error: ${message}`,
          { cause: error },
        );
        await recordFailure(log, final);
        await failBuild(deps, build.id, final);
        await delivery.ack();
        return;
      }
      jobLogger.warn({ err: error }, "build attempt failed; the job will be retried");
      log.line("warn", "retry", `attempt ${build.attempts} failed (${message}); retrying`);
      await log.flush().catch(() => undefined);
      delivery.nak(RETRY_DELAY_MS * delivery.deliveryCount, message);
    } finally {
      clearInterval(heartbeat);
      clearTimeout(timeout);
      log.close();
    }
  }

  const loop = (async () => {
    for await (const delivery of deps.bus.consume(options.consumer, {
      concurrency: options.concurrency,
      signal: stopping.signal,
    })) {
      const work = handle(delivery).catch((error: unknown) => {
        // Never let one job take the worker down: leave it for redelivery.
        logger.error({ err: error, buildId: delivery.message.buildId }, "build job crashed");
        delivery.nak(RETRY_DELAY_MS, describe(error));
      });
      running.add(work);
      void work.finally(() => running.delete(work));
    }
  })().catch((error: unknown) => {
    if (!stopping.signal.aborted) logger.error({ err: error }, "build workers stopped");
  });
  logger.info({ concurrency: options.concurrency }, "build workers started");

  return {
    async stop() {
      stopping.abort();
      stopListening();
      await loop;
      await Promise.allSettled([...running]);
    },
  };
}

async function recordFailure(log: BuildLog, failure: BuildFailure): Promise<void> {
  log.line("error", "failed", `${failure.reason}: ${failure.message}`);
  await log.flush().catch(() => undefined);
}

/** Ends a running build as failed with tailor.build.failed (no-op once it ended). */
async function failBuild(
  deps: BuilderDependencies,
  buildId: string,
  failure: BuildFailure,
): Promise<Build | undefined> {
  const failed = await deps.db.transaction().execute(async (trx) => {
    const ended = await finishBuild(trx, buildId, {
      status: "failed",
      finishedAt: deps.now(),
      failureReason: failure.reason,
      failureMessage: failure.message,
    });
    if (ended !== undefined) await enqueueBuildFailed(trx, ended);
    return ended;
  });
  if (failed !== undefined) await deps.events.flushAfterCommit();
  return failed;
}

function describe(error: unknown): string {
  if (error instanceof TailorError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
