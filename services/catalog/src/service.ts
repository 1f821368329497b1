import { catalogV1 } from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { serviceInfo } from "@tailor/service";
import { migrations } from "./store/migrations/index.js";

/** Catalog: upstream APK repositories, packages, source images and custom images. */
export const catalogService: ServiceDefinition = {
  name: "catalog",
  schema: "catalog",
  migrations,
  start({ grpc }) {
    grpc.add(catalogV1.CatalogService, {
      getServiceInfo: () => ({ info: serviceInfo("catalog") }),
    });
    return {};
  },
};
