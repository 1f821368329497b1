// Every service's migrations are named `YYYY-MM-DDTHHMM-what`, applied in
// name order, and never dated in the future (a future name would sort after
// migrations written later and run them out of order).
import { createBuildHistoryService } from "@tailor/build-history";
import { createBuilderService } from "@tailor/builder";
import { createCatalogService } from "@tailor/catalog";
import { createEntitlementService } from "@tailor/entitlement";
import { createGatewayService } from "@tailor/gateway";
import { createResolverService } from "@tailor/resolver";
import { describe, expect, it } from "vitest";

const NAME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})-[a-z0-9]+(-[a-z0-9]+)*$/;

describe("migration names", () => {
  const definitions = [
    createEntitlementService({ environment: {} }),
    createCatalogService({ environment: {} }),
    createResolverService({ environment: {} }),
    createBuildHistoryService({ environment: {} }),
    createBuilderService({ environment: {} }),
    createGatewayService({ environment: {} }),
  ];

  for (const definition of definitions) {
    it(`${definition.name}: timestamped, in order, none in the future`, () => {
      const names = Object.keys(definition.migrations ?? {});
      expect([...names].sort()).toEqual(names);
      for (const name of names) {
        const match = NAME.exec(name);
        expect(match, name).not.toBeNull();
        const [, year, month, day, hour, minute] = match ?? [];
        const at = Date.UTC(
          Number(year),
          Number(month) - 1,
          Number(day),
          Number(hour),
          Number(minute),
        );
        expect(at, `${name} is dated in the future`).toBeLessThanOrEqual(Date.now());
      }
    });
  }
});
