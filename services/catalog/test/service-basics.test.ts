import { catalogV1 } from "@tailor/proto";
import { describeServiceBasics } from "@tailor/testing";
import { catalogService } from "../src/index.js";

describeServiceBasics(catalogService, catalogV1.CatalogService);
