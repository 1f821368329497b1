// The live build log as Server-Sent Events: the history's TailBuildLog stream
// (stored lines, then live ones, ending once the build has ended) turned into
// `line` events, followed by one `end` event carrying the finished build. A
// failure after the stream began is a `failure` event: EventSource keeps the
// name `error` for its own connection errors.
import { once } from "node:events";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, TailorError } from "@tailor/grpc";
import type { builderV1, historyV1 } from "@tailor/proto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { GatewayDependencies } from "../../gateway-dependencies.js";
import type { ApiErrorBody } from "../../http/errors.js";
import { httpStatusOf, publicFailure } from "../../http/errors.js";
import { buildDetailJson, isFinished, logLineJson } from "./build-json.js";

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
/**
 * How long an EventSource waits before it reconnects (sent as `retry:`), so
 * a dropped stream resumes promptly but a gateway is not hammered.
 * @default 3000
 */
export const SSE_RETRY_MS = 3_000;
/** Page size of the log read that decides whether a resumed stream has anything left. */
const LOG_PAGE_SIZE = 10_000;
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
  /** Tells an EventSource how long to wait before reconnecting. */
  retry(ms: number): void;
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
    retry(ms) {
      if (open()) body.write(`retry: ${Math.round(ms)}\n\n`);
    },
  };
}

/** The `failure` event's data: the REST error body, server failures without their text (it stays in the logs). */
function failureEventData(error: TailorError, requestId: string): ApiErrorBody {
  const failure = publicFailure(error);
  return {
    error: {
      code: failure.code,
      message: failure.message,
      ...(failure.field === undefined ? {} : { field: failure.field }),
      ...(failure.reason === undefined ? {} : { reason: failure.reason }),
    },
    requestId,
  };
}

/** True once the client's connection is gone (it may go while the build was looked up). */
function clientGone(request: FastifyRequest, reply: FastifyReply): boolean {
  return reply.raw.destroyed || request.raw.socket === null || request.raw.socket.destroyed;
}

/**
 * True when a resuming client has had every line of a build that has
 * ended: its stream would hold nothing but the `end` event it saw already.
 * Any doubt (a failed read) answers false; the stream then tells.
 */
async function nothingLeft(options: BuildLogStreamOptions, after: number): Promise<boolean> {
  const { deps, build, metadata } = options;
  if (after <= 0 || !isFinished(build)) return false;
  try {
    let token = "";
    let last = 0;
    do {
      const answer = await deps.history.getBuildLog(
        { id: build.id, page: { size: LOG_PAGE_SIZE, token } },
        { metadata },
      );
      for (const line of answer.lines) last = Math.max(last, Number(line.seq));
      if (last > after) return false;
      token = answer.page?.nextToken ?? "";
    } while (token !== "");
    return true;
  } catch {
    return false;
  }
}

/**
 * Answers with the build's log as Server-Sent Events (`content-type:
 * text/event-stream`): a `retry:` hint, one `line` event per log line (its
 * id is the resume point an EventSource sends back as `Last-Event-ID`), then
 * an `end` event with the finished build. A client resuming a build that has
 * ended after its last line gets 204, which tells an EventSource to stop
 * reconnecting. The history stream and the keep-alive stop as soon as the
 * client disconnects, also when it left before the stream began. Settles
 * once the stream is over; nothing needs to wait for it.
 */
export async function sendBuildLogStream(options: BuildLogStreamOptions): Promise<void> {
  const { reply, request } = options;
  const after = options.after ?? 0;
  if (await nothingLeft(options, after)) {
    reply.code(204).header("cache-control", "no-cache").send();
    return;
  }
  // The client may have gone while the build was looked up: then the
  // response's close has been emitted already and would never stop the tail.
  if (clientGone(request, reply)) return;
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
  out.retry(SSE_RETRY_MS);
  out.comment(`log of build ${options.build.id}`);
  try {
    await followLog(options, out, abort.signal);
  } catch (error) {
    if (!abort.signal.aborted) request.log.warn({ err: error }, "build log stream failed");
  } finally {
    clearInterval(heartbeat);
    body.end();
  }
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
      // A server failure's text is not sent (it may name internal addresses): log it.
      if (httpStatusOf(error.code) >= 500) {
        options.request.log.warn({ err: error, buildId: build.id }, "build log tail failed");
      }
      await out.event("failure", failureEventData(error, requestId));
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
    await out.event("failure", failureEventData(error, requestId));
  }
}
