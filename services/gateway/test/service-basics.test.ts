import { gatewayV1 } from "@tailor/proto";
import { describeServiceBasics } from "@tailor/testing";
import { gatewayService } from "../src/index.js";

describeServiceBasics(gatewayService, gatewayV1.GatewayService, {
  mainScript: new URL("../dist/main.js", import.meta.url),
});
