// Entry point of the catalog service as its own process: configuration from the
// environment, dependencies, start, clean stop on SIGTERM (see README).
import { runServiceProcess } from "@tailor/service";
import { catalogService } from "./service.js";

await runServiceProcess(catalogService);
