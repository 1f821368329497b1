// Entry point of the builder service as its own process: configuration from the
// environment, dependencies, start, clean stop on SIGTERM (see README).
import { runServiceProcess } from "@tailor/service";
import { builderService } from "./service.js";

await runServiceProcess(builderService);
