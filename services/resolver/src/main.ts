// Entry point of the resolver service as its own process: configuration from the
// environment, dependencies, start, clean stop on SIGTERM (see README).
import { runServiceProcess } from "@tailor/service";
import { resolverService } from "./service.js";

await runServiceProcess(resolverService);
