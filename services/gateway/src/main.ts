// Entry point of the gateway as its own process: configuration from the
// environment, dependencies, start, clean stop on SIGTERM.
import { runServiceProcess } from "@tailor/service";
import { gatewayService } from "./service.js";

await runServiceProcess(gatewayService);
