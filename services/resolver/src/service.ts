import { resolverV1 } from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { serviceInfo } from "@tailor/service";
import { migrations } from "./store/migrations/index.js";

/** Resolver: the apk-semantics dependency solver behind a gRPC API. */
export const resolverService: ServiceDefinition = {
  name: "resolver",
  schema: "resolver",
  migrations,
  start({ grpc }) {
    grpc.add(resolverV1.ResolverService, {
      getServiceInfo: () => ({ info: serviceInfo("resolver") }),
    });
    return {};
  },
};
