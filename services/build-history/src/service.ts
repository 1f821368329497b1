import { historyV1 } from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { serviceInfo } from "@tailor/service";
import { migrations } from "./store/migrations/index.js";

/** Build history: the read model of builds, logs, versions and tags. */
export const buildHistoryService: ServiceDefinition = {
  name: "build-history",
  schema: "build_history",
  migrations,
  start({ grpc }) {
    grpc.add(historyV1.BuildHistoryService, {
      getServiceInfo: () => ({ info: serviceInfo("build-history") }),
    });
    return {};
  },
};
