import { resolverV1 } from "@tailor/proto";
import { describeServiceBasics } from "@tailor/testing";
import { resolverService } from "../src/index.js";

describeServiceBasics(resolverService, resolverV1.ResolverService, {
  mainScript: new URL("../dist/main.js", import.meta.url),
});
