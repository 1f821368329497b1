import type { DescMethod } from "@bufbuild/protobuf";
import type { Registry } from "prom-client";
import { Counter, Histogram } from "prom-client";
import type { CallResponse } from "./call-observer.js";
import { endCode, observeCall } from "./call-observer.js";
import type { Code } from "./code.js";
import { codeName } from "./code.js";

// Seconds; from a cache hit (1 ms) to a slow resolve (10 s).
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LABELS = ["service", "method", "code"] as const;

/**
 * Returns the metric registered under `name`, registering it first if needed,
 * so several servers or clients in one process (the all-in-one) share a registry.
 */
function reuseOrRegister<T>(registry: Registry, name: string, register: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? register();
}

/** A histogram of durations and a counter of calls, labelled by service, method and code. */
export interface CallMetrics {
  observe(method: DescMethod, code: Code, seconds: number): void;
}

/** Registers (or reuses) `<prefix>_handling_seconds` and `<prefix>_handled_total`. */
export function callMetrics(registry: Registry, prefix: string, who: string): CallMetrics {
  const histogram = reuseOrRegister(
    registry,
    `${prefix}_handling_seconds`,
    () =>
      new Histogram({
        name: `${prefix}_handling_seconds`,
        help: `Duration of gRPC calls ${who}, from start to final status, in seconds.`,
        labelNames: LABELS,
        buckets: LATENCY_BUCKETS,
        registers: [registry],
      }),
  );
  const counter = reuseOrRegister(
    registry,
    `${prefix}_handled_total`,
    () =>
      new Counter({
        name: `${prefix}_handled_total`,
        help: `gRPC calls ${who} that finished, by status code.`,
        labelNames: LABELS,
        registers: [registry],
      }),
  );
  return {
    observe(method, code, seconds) {
      const labels = { service: method.parent.typeName, method: method.name, code: codeName(code) };
      histogram.observe(labels, seconds);
      counter.inc(labels);
    },
  };
}

/**
 * An interceptor, for either side, that records every call (or attempt) in
 * `<prefix>_handling_seconds` and `<prefix>_handled_total`.
 */
export function metricsInterceptor<
  Req extends { readonly method: DescMethod },
  Res extends CallResponse,
>(
  registry: Registry,
  prefix: string,
  who: string,
): (next: (request: Req) => Promise<Res>) => (request: Req) => Promise<Res> {
  const metrics = callMetrics(registry, prefix, who);
  return (next) => async (request) => {
    const startedAt = performance.now();
    return observeCall(
      () => next(request),
      (err) =>
        metrics.observe(request.method, endCode(err), (performance.now() - startedAt) / 1000),
    );
  };
}
