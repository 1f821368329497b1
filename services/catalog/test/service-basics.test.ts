import { catalogV1 } from "@tailor/proto";
import { describeServiceBasics } from "@tailor/testing";
import { catalogService } from "../src/index.js";

describeServiceBasics(catalogService, catalogV1.CatalogService, {
  mainScript: new URL("../dist/main.js", import.meta.url),
});
