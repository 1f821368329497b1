// The live build log as Server-Sent Events: the history's TailBuildLog stream
// (stored lines, then live ones, ending once the build has ended) turned into
// `line` events, followed by one `end` event carrying the finished build.
import { once } from "node:events";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, TailorError } from "@tailor/grpc";
import type { builderV1, historyV1 } from "@tailor/proto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { GatewayDependencies } from "../../gateway-dependencies.js";
import type { ApiErrorBody } from "../../http/errors.js";
import { codeName } from "../../http/errors.js";
import { buildDetailJson, logLineJson } from "./build-json.js";

/** What {@link sendBuildLogStream} streams and for whom. */
export interface BuildLogStreamOptions {
  readonly deps: GatewayDependencies;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  /** The build, already checked to belong to the organization in the path. */
  readonly build: builderV1.Build;
  /** gRPC metadata of the caller (their token, the request id). */
  readonly metadata: Record<string, string>;
  /** Lines up to this seq were seen already (`Last-Event-ID` or `after`). @default 0 */
  readonly after?: number;
  /** Interval of keep-alive comments. @default 15000 */
  readonly heartbeatMs?: number;
}

const DEFAULT_HEARTBEAT_MS = 15_000;
/** Time budget of one TailBuildLog call; a longer build's stream is resumed after the last line seen. */
const TAIL_DEADLINE_MS = 60 * 60 * 1000;
/** The history hears of a build a moment after the builder queued it: wait this often, this long. */
const HISTORY_WAIT_MS = 250;
const HISTORY_WAIT_ATTEMPTS = 120;
/** Failures that end a tail without ending the build: the stream resumes after the last line. */
const RESUMABLE = new Set<Code>([Code.DEADLINE_EXCEEDED, Code.UNAVAILABLE]);
const MAX_CONSECUTIVE_RESUMES = 5;
const RESUME_BACKOFF_MS = 500;

/** Writes Server-Sent Events to a stream, waiting when the client reads slowly. */
interface EventWriter {
  /** Sends one event; ignored once the client has gone. */
  event(name: string, data: unknown, id?: string): Promise<void>;
  /** Sends a comment line (keeps proxies from closing an idle connection). */
  comment(text: string): void;
}

function createEventWriter(body: PassThrough, signal: AbortSignal): EventWriter {
  const open = () => !signal.aborted && !body.destroyed && !body.writableEnded;
  return {
    async event(name, data, id) {
      if (!open()) return;
      const frame = `${id === undefined ? "" : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
      if (!body.write(frame)) await once(body, "drain", { signal }).catch(() => undefined);
    },
    comment(text) {
      if (open()) body.write(`: ${text}\n\n`);
    },
  };
}

/** The `error` event's data: the REST error body. Internal failures keep their text in the logs. */
function errorEventData(error: TailorError, requestId: string): ApiErrorBody {
  const internal = error.code === Code.INTERNAL || error.code === Code.UNKNOWN;
  return {
    error: {
      code: codeName(error.code),
      message: internal
        ? "internal error; the request id identifies it in the logs"
        : error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
      ...(error.reason === undefined ? {} : { reason: error.reason }),
    },
    requestId,
  };
}

/**
 * Answers with the build's log as Server-Sent Events (`content-type:
 * text/event-stream`): one `line` event per log line (its id is the resume
 * point an EventSource sends back as `Last-Event-ID`), then an `end` event with the
 * finished build. Returns at once; the events are written as they come. The
 * history stream is cancelled as soon as the client disconnects.
 */
export function sendBuildLogStream(options: BuildLogStreamOptions): void {
  const { reply, request } = options;
  const body = new PassThrough();
  const abort = new AbortController();
  // The response's close (client gone, or stream ended) stops the gRPC tail.
  reply.raw.once("close", () => abort.abort());
  const out = createEventWriter(body, abort.signal);
  const heartbeat = setInterval(
    () => out.comment("keep-alive"),
    options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
  );
  heartbeat.unref();
  reply
    .code(200)
    .header("content-type", "text/event-stream")
    .header("cache-control", "no-cache")
    // Tells nginx-style proxies not to buffer the stream.
    .header("x-accel-buffering", "no")
    .send(body);
  // The first bytes send the headers, so the client knows the stream is open.
  out.comment(`log of build ${options.build.id}`);
  void followLog(options, out, abort.signal)
    .catch((error: unknown) => {
      if (!abort.signal.aborted) request.log.warn({ err: error }, "build log stream failed");
    })
    .finally(() => {
      clearInterval(heartbeat);
      body.end();
    });
}

/**
 * Which log lines the client has had. The history stores lines as their
 * events arrive, not strictly in seq order, so a tail can pass over a line
 * stored late; the stream then reads the log again and sends what it missed.
 * Event ids are the highest seq up to which every line was sent, so a client
 * resuming with `Last-Event-ID` never loses a line (it may see one twice;
 * lines carry their seq).
 */
class DeliveredLines {
  /** Every line up to this seq was sent. */
  contiguous: number;
  /** Lines sent beyond `contiguous` (only while a gap remains). */
  private readonly beyond = new Set<number>();

  constructor(after: number) {
    this.contiguous = after;
  }

  /** Records `seq` as sent; false when it was sent already. */
  accept(seq: number): boolean {
    if (seq <= this.contiguous || this.beyond.has(seq)) return false;
    this.beyond.add(seq);
    while (this.beyond.delete(this.contiguous + 1)) this.contiguous++;
    return true;
  }

  /** True while a line before the last one sent is missing. */
  get hasGap(): boolean {
    return this.beyond.size > 0;
  }
}

/** How long a gap may stay open before the stream reads the log again. */
const GAP_REPAIR_MS = 1_000;
/** Re-reads for one gap while the build runs; after that it is filled once the build ends. */
const MAX_LIVE_REPAIRS = 5;
/** Re-reads after the build ended, for lines that are still missing. */
const MAX_FINAL_REPAIRS = 2;

/** Streams the lines (resuming after interruptions, filling gaps) and the closing `end` event. */
async function followLog(
  options: BuildLogStreamOptions,
  out: EventWriter,
  signal: AbortSignal,
): Promise<void> {
  const { deps, build, metadata } = options;
  const requestId = String(options.request.id);
  const delivered = new DeliveredLines(options.after ?? 0);
  let historyWaits = 0;
  let resumes = 0;
  let liveRepairs = 0;
  let finalRepairs = 0;
  for (;;) {
    // One TailBuildLog call; aborted early to re-read the log when a gap stays open.
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener("abort", stop, { once: true });
    let repairTimer: NodeJS.Timeout | undefined;
    let repairing = false;
    const watchGap = () => {
      if (!delivered.hasGap) {
        clearTimeout(repairTimer);
        repairTimer = undefined;
        liveRepairs = 0;
      } else if (repairTimer === undefined && liveRepairs < MAX_LIVE_REPAIRS) {
        repairTimer = setTimeout(() => {
          repairing = true;
          attempt.abort();
        }, GAP_REPAIR_MS);
      }
    };
    let received = false;
    try {
      const tail = deps.history.tailBuildLog(
        { id: build.id },
        { metadata, signal: attempt.signal, deadlineMs: TAIL_DEADLINE_MS },
      );
      for await (const { line } of tail) {
        received = true;
        resumes = 0;
        if (line === undefined || !delivered.accept(Number(line.seq))) continue;
        await out.event("line", logLineJson(line), String(delivered.contiguous));
        watchGap();
      }
      // The build has ended. Reading its log once more sends lines stored late.
      if (delivered.hasGap && finalRepairs < MAX_FINAL_REPAIRS) {
        finalRepairs++;
        continue;
      }
      break;
    } catch (thrown) {
      if (signal.aborted) return;
      if (repairing) {
        liveRepairs++;
        continue;
      }
      const error = TailorError.from(thrown);
      // The builder knows the build (checked before); the history will soon.
      if (error.code === Code.NOT_FOUND && !received && historyWaits < HISTORY_WAIT_ATTEMPTS) {
        historyWaits++;
        await sleep(HISTORY_WAIT_MS, undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (RESUMABLE.has(error.code) && resumes < MAX_CONSECUTIVE_RESUMES) {
        resumes++;
        await sleep(RESUME_BACKOFF_MS * resumes, undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (error.code === Code.INTERNAL || error.code === Code.UNKNOWN) {
        options.request.log.warn({ err: error, buildId: build.id }, "build log tail failed");
      }
      await out.event("error", errorEventData(error, requestId));
      return;
    } finally {
      clearTimeout(repairTimer);
      signal.removeEventListener("abort", stop);
    }
  }
  if (signal.aborted) return;
  try {
    const [ended, recorded] = await Promise.all([
      deps.builder.getBuild({ buildId: build.id }, { metadata, signal }),
      deps.history.getBuild({ id: build.id }, { metadata, signal }).then(
        (answer): historyV1.Build | undefined => answer.build,
        () => undefined,
      ),
    ]);
    await out.event("end", buildDetailJson(ended.build ?? build, recorded));
  } catch (thrown) {
    if (signal.aborted) return;
    const error = TailorError.from(thrown);
    options.request.log.warn({ err: error, buildId: build.id }, "reading the ended build failed");
    await out.event("error", errorEventData(error, requestId));
  }
}
