// Test helpers of the image half: a stand-in entitlement service that only
// answers GetOrganization, and a reader of the image events a namespace holds.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import type { EventType } from "@tailor/bus";
import { streamName, subjectFor } from "@tailor/bus";
import type { PlatformConfig } from "@tailor/config";
import { serviceAddress } from "@tailor/config";
import type { ServiceImpl } from "@tailor/grpc";
import { Code, createGrpcServer, TailorError } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import type { TestNats } from "@tailor/testing";
import { testLogger } from "@tailor/testing";
import { connect } from "nats";

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

/** One stored event with its message id. */
export interface StoredEvent<T> {
  readonly msgId: string;
  readonly event: T;
}

/** Every event of `type` stored so far in the test's namespace, oldest first, as a subscriber sees them. */
export async function readEvents<D extends DescMessage>(
  nats: TestNats,
  type: EventType & { schema: D },
): Promise<StoredEvent<MessageShape<D>>[]> {
  const connection = await connect({ servers: nats.url, name: "catalog-image-test-reader" });
  try {
    const stream = streamName(nats.namespace, "EVENTS");
    const subject = subjectFor(nats.namespace, type);
    const manager = await connection.jetstreamManager();
    const info = await manager.streams.info(stream, { subjects_filter: subject });
    const count = info.state.subjects?.[subject] ?? 0;
    if (count === 0) return [];
    const consumer = await connection
      .jetstream()
      .consumers.get(stream, { filterSubjects: subject });
    const messages = await consumer.consume();
    const found: StoredEvent<MessageShape<D>>[] = [];
    for await (const message of messages) {
      found.push({
        msgId: message.headers?.get("Nats-Msg-Id") ?? "",
        event: fromBinary(type.schema, message.data),
      });
      if (found.length >= count) break;
    }
    await messages.close();
    return found;
  } finally {
    await connection.close();
  }
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
