// Test helpers of the image half: a stand-in entitlement service that only
// answers GetOrganization (events are read with support/stored-events.ts).
import type { PlatformConfig } from "@tailor/config";
import { serviceAddress } from "@tailor/config";
import type { ServiceImpl } from "@tailor/grpc";
import { Code, createGrpcServer, TailorError } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import { testLogger } from "@tailor/testing";

/** What the stand-in says about one organization. */
export interface FakeOrganization {
  readonly id: string;
  readonly name: string;
  customAssemblyEnabled: boolean;
  customizableSourceImages: string[];
}

/** A gRPC server implementing only entitlement's GetOrganization, from a map the test edits. */
export interface FakeEntitlement {
  readonly organizations: Map<string, FakeOrganization>;
  /** The `authorization` header of every GetOrganization call, in order. */
  readonly authorizations: string[];
  stop(): Promise<void>;
}

/**
 * Starts the stand-in at the entitlement address of `config` (the address the
 * catalog dials); every other method answers UNIMPLEMENTED.
 */
export async function startFakeEntitlement(config: PlatformConfig): Promise<FakeEntitlement> {
  const organizations = new Map<string, FakeOrganization>();
  const authorizations: string[] = [];
  const impl: Record<string, unknown> = {};
  for (const method of entitlementV1.EntitlementService.methods) {
    impl[method.localName] = () => {
      throw new TailorError(
        Code.UNIMPLEMENTED,
        `the test's entitlement stand-in has no ${method.name}`,
      );
    };
  }
  impl.getOrganization = (
    request: entitlementV1.GetOrganizationRequest,
    ctx: { metadata: { get(key: string): string | undefined } },
  ) => {
    authorizations.push(ctx.metadata.get("authorization") ?? "");
    const organization = organizations.get(request.id);
    if (organization === undefined) {
      throw new TailorError(Code.NOT_FOUND, `organization "${request.id}" not found`);
    }
    return { organization: { ...organization } };
  };
  const server = createGrpcServer({ logger: testLogger(), shutdownGraceMs: 100 });
  server.add(
    entitlementV1.EntitlementService,
    impl as unknown as ServiceImpl<typeof entitlementV1.EntitlementService>,
  );
  await server.listen(serviceAddress(config, "entitlement"));
  return { organizations, authorizations, stop: () => server.shutdown() };
}

/** The rejection of a call, as a TailorError (fails the test when the call succeeds). */
export async function rejectionOf(call: Promise<unknown>): Promise<TailorError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome === undefined) throw new Error("expected the call to fail, but it succeeded");
  if (!(outcome instanceof TailorError)) throw outcome;
  return outcome;
}
