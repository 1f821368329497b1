import { resolverV1 } from "@tailor/proto";
import { describeServiceBasics } from "@tailor/testing";
import { createResolverService } from "../src/index.js";

// Without a catalog the resolver stays NOT_SERVING (see README); these basics
// give it an empty universe so it is ready at once.
describeServiceBasics(
  createResolverService({ environment: {}, packages: async () => [] }),
  resolverV1.ResolverService,
  { mainScript: new URL("../dist/main.js", import.meta.url) },
);
