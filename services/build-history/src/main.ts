// Entry point of the build-history service as its own process: configuration from the
// environment, dependencies, start, clean stop on SIGTERM (see README).
import { runServiceProcess } from "@tailor/service";
import { buildHistoryService } from "./service.js";

await runServiceProcess(buildHistoryService);
