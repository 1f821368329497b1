import type { TokenKeySource } from "@tailor/auth";
import { authenticate, createTokenVerifier, entitlementTokenKeys } from "@tailor/auth";
import type { ConsumerMessage, ConsumerSpec, consumers } from "@tailor/bus";
import type { Environment } from "@tailor/config";
import { entitlementV1, historyV1 } from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { databaseOf, serviceInfo } from "@tailor/service";
import { loadBuildHistoryConfig } from "./config.js";
import { startBuildEventRecorder } from "./events/build-event-recorder.js";
import { LogNotifier } from "./events/log-notifier.js";
import { createHistoryHandlers } from "./handlers/history-handlers.js";
import { startHistoryPruner } from "./retention/history-pruner.js";
import type { HistoryDatabase } from "./store/history.table.js";
import { migrations } from "./store/migrations/index.js";

/** How often records past the retention are pruned. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** How often a live tail re-reads when no local notification arrives (lines recorded by another replica). */
const TAIL_POLL_MS = 1_000;
/**
 * How long readers of a log wait for a missing line once the line after it is
 * stored: longer than the recorder's redelivery of a failed insert (1 s).
 */
const LOG_GAP_WAIT_MS = 5_000;

/** What tests and the all-in-one launcher may supply instead of the defaults. */
export interface BuildHistoryServiceOptions {
  /** Where TAILOR_BUILD_HISTORY_* are read. @default process.env */
  readonly environment?: Environment;
  /**
   * Public keys that verify callers' tokens.
   * @default the entitlement service's GetTokenKeys
   */
  readonly tokenKeys?: TokenKeySource;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Time between prunes; tests shorten it. @default one hour */
  readonly pruneIntervalMs?: number;
  /** The build-event consumer. @default consumers.historyBuildEvents */
  readonly consumer?: ConsumerSpec<ConsumerMessage<typeof consumers.historyBuildEvents>>;
}

/**
 * Builds the build-history service: BuildHistoryService (builds, logs, live
 * tails, versions, tag history), the recorder of build events, and the
 * retention pruner.
 */
export function createBuildHistoryService(
  options: BuildHistoryServiceOptions = {},
): ServiceDefinition {
  return {
    name: "build-history",
    schema: "build_history",
    migrations,
    async start(context) {
      const config = loadBuildHistoryConfig(options.environment ?? process.env);
      const logger = context.logger;
      const now = options.now ?? (() => new Date());
      const tokenKeys =
        options.tokenKeys ??
        entitlementTokenKeys(context.clients.get("entitlement", entitlementV1.EntitlementService));
      const verifier = createTokenVerifier({ keys: tokenKeys });
      const db = databaseOf<HistoryDatabase>(context);
      const notifier = new LogNotifier();

      context.grpc.add(historyV1.BuildHistoryService, {
        getServiceInfo: () => ({ info: serviceInfo("build-history") }),
        ...createHistoryHandlers({
          db,
          notifier,
          authenticate: (ctx) => authenticate(ctx, verifier, "api"),
          now,
          tailPollMs: TAIL_POLL_MS,
          logGapWaitMs: LOG_GAP_WAIT_MS,
        }),
      });

      const recorder = startBuildEventRecorder({
        db,
        bus: context.bus,
        logger,
        notifier,
        ...(options.consumer === undefined ? {} : { consumer: options.consumer }),
      });
      const pruner = startHistoryPruner({
        db,
        logger,
        retentionDays: config.retentionDays,
        intervalMs: options.pruneIntervalMs ?? PRUNE_INTERVAL_MS,
        now,
      });
      logger.info({ retentionDays: config.retentionDays }, "build history started");
      return {
        async stop() {
          await pruner.stop();
          await recorder.stop();
        },
      };
    },
  };
}

/** The build-history service with its defaults (environment from process.env). */
export const buildHistoryService: ServiceDefinition = createBuildHistoryService();
