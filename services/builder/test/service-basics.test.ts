import { builderV1 } from "@tailor/proto";
import { describeServiceBasics } from "@tailor/testing";
import { builderService } from "../src/index.js";

describeServiceBasics(builderService, builderV1.BuilderService, {
  mainScript: new URL("../dist/main.js", import.meta.url),
});
