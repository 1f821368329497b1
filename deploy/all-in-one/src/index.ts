/** @tailor/all-in-one — every Tailor service in one process, for `npm start` and end-to-end tests. */

export type { AllInOne, AllInOneOptions } from "./all-in-one.js";
export { startAllInOne } from "./all-in-one.js";
export { DataDirLockedError, lockDataDir } from "./data-dir-lock.js";
export type { ResolvedNats } from "./nats-resolution.js";
export { LOCAL_NATS_URL, NatsUnavailableError, resolveNats } from "./nats-resolution.js";
export { freePort, isPortFree, pickPort } from "./ports.js";
