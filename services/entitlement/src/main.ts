// Entry point of the entitlement service as its own process: configuration
// from the environment, dependencies, start, clean stop on SIGTERM.
import { runServiceProcess } from "@tailor/service";
import { entitlementService } from "./service.js";

await runServiceProcess(entitlementService);
