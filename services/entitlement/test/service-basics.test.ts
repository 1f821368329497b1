import { entitlementV1 } from "@tailor/proto";
import { describeServiceBasics } from "@tailor/testing";
import { entitlementService } from "../src/index.js";

describeServiceBasics(entitlementService, entitlementV1.EntitlementService, {
  mainScript: new URL("../dist/main.js", import.meta.url),
});
