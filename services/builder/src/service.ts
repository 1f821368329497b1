import { builderV1 } from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { serviceInfo } from "@tailor/service";
import { migrations } from "./store/migrations/index.js";

/** Builder: build requests, the work queue, and the workers that assemble images. */
export const builderService: ServiceDefinition = {
  name: "builder",
  schema: "builder",
  migrations,
  start({ grpc }) {
    grpc.add(builderV1.BuilderService, {
      getServiceInfo: () => ({ info: serviceInfo("builder") }),
    });
    return {};
  },
};
