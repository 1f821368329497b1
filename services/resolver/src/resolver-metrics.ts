import type { Registry } from "prom-client";
import { Gauge, Histogram } from "prom-client";

/** The resolver's Prometheus metrics. */
export interface ResolverMetrics {
  /** Time to compute a closure, by RPC (`resolve`, `preview`, `entitled_packages`). */
  readonly resolveSeconds: Histogram<"rpc">;
  /** Time to compile one arch's universe. */
  readonly rebuildSeconds: Histogram<"arch">;
  /** Time from a `package.published` event being stored to the package being resolvable. */
  readonly eventVisibleSeconds: Histogram;
  /** Packages held per arch. */
  readonly universePackages: Gauge<"arch">;
}

/** Registers the resolver's metrics in `registry`. */
export function createResolverMetrics(registry: Registry): ResolverMetrics {
  const registers = [registry];
  return {
    resolveSeconds: new Histogram({
      name: "tailor_resolver_resolve_seconds",
      help: "Time to compute a closure, by RPC.",
      labelNames: ["rpc"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    rebuildSeconds: new Histogram({
      name: "tailor_resolver_universe_rebuild_seconds",
      help: "Time to compile one arch's package universe.",
      labelNames: ["arch"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    eventVisibleSeconds: new Histogram({
      name: "tailor_resolver_event_visible_seconds",
      help: "Time from a package.published event being stored to the package being resolvable.",
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5],
      registers,
    }),
    universePackages: new Gauge({
      name: "tailor_resolver_universe_packages",
      help: "Packages in the in-memory universe, by arch.",
      labelNames: ["arch"],
      registers,
    }),
  };
}
