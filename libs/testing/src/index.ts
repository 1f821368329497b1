/** @tailor/testing — setup and cleanup of real Postgres, PGlite and NATS for tests, plus small test helpers. */

export { TestServiceUnavailableError } from "./errors.js";
export { freePort } from "./free-port.js";
export type { NodeProcess } from "./node-process.js";
export { startNodeProcess } from "./node-process.js";
export { rejection } from "./rejection.js";
export type { TestService } from "./service-harness.js";
export { describeServiceBasics, startTestService, testPlatformConfig } from "./service-harness.js";
export { describeWithFixtures, sharedFixturesDir } from "./shared-fixtures.js";
export type { TestDatabase } from "./test-database.js";
export { createTestDatabase } from "./test-database.js";
export { testLogger } from "./test-logger.js";
export type { TestNats } from "./test-nats.js";
export { createTestNats } from "./test-nats.js";
export type { TestPglite } from "./test-pglite.js";
export { createTestPglite } from "./test-pglite.js";
export type { WaitForOptions } from "./wait-for.js";
export { waitFor } from "./wait-for.js";
