import type { HealthReporter } from "@tailor/grpc";

/** Holds a service's health entry at NOT_SERVING until {@link ServingGate.open}. */
export interface ServingGate {
  /** Reports SERVING from now on (the universe is loaded). */
  open(): void;
}

/**
 * Keeps `service` NOT_SERVING until opened. The gRPC server marks every
 * service SERVING when it starts listening, after the service's start
 * returned; the resolver is only useful once its universe is loaded, so
 * until then that status is held back here.
 */
export function holdNotServing(health: HealthReporter, service: string): ServingGate {
  let open = false;
  const set = health.set.bind(health);
  health.set = (name, status) => set(name, name === service && !open ? "NOT_SERVING" : status);
  set(service, "NOT_SERVING");
  return {
    open() {
      open = true;
      set(service, "SERVING");
    },
  };
}
