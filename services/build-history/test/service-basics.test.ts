import { historyV1 } from "@tailor/proto";
import { describeServiceBasics } from "@tailor/testing";
import { buildHistoryService } from "../src/index.js";

describeServiceBasics(buildHistoryService, historyV1.BuildHistoryService, {
  mainScript: new URL("../dist/main.js", import.meta.url),
});
