import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createSilentLogger } from "@tailor/log";
import { entitlementV1 } from "@tailor/proto";
import type {
  ClientInterceptor,
  GrpcServer,
  GrpcServerOptions,
  ServiceImpl,
} from "../src/index.js";
import { Code, createGrpcServer, TailorError } from "../src/index.js";

/** The service most tests serve. */
export const Entitlement = entitlementV1.EntitlementService;

/** A small in-memory EntitlementService; tests override single handlers. */
export function entitlementImpl(
  overrides: Partial<ServiceImpl<typeof Entitlement>> = {},
): ServiceImpl<typeof Entitlement> {
  const createdAt = timestampFromDate(new Date("2024-05-01T12:00:00Z"));
  // Methods the tests do not exercise answer UNIMPLEMENTED.
  const unimplemented = Object.fromEntries(
    Entitlement.methods.map((method) => [
      method.localName,
      () => {
        throw new TailorError(Code.UNIMPLEMENTED, `${method.name} is not part of this fixture`);
      },
    ]),
  ) as unknown as ServiceImpl<typeof Entitlement>;
  return {
    ...unimplemented,
    getServiceInfo: () => ({ info: { name: "entitlement", version: "1.2.3", instance: "test-1" } }),
    createOrganization: (request) => {
      if (request.name === "taken") {
        throw new TailorError(Code.ALREADY_EXISTS, `organization "taken" already exists`, {
          reason: "org_exists",
          field: "name",
        });
      }
      return {
        organization: {
          id: "0b1e6a4c-org",
          name: request.name,
          displayName: request.displayName,
          createdAt,
        },
      };
    },
    getOrganization: (request) => {
      if (request.id === "boom") throw new Error("boom");
      throw new TailorError(Code.NOT_FOUND, `organization "${request.id}" not found`, {
        reason: "org_not_found",
        field: "id",
        metadata: { id: request.id },
      });
    },
    ...overrides,
  };
}

/** Servers and clients to release after each test. */
export class Cleanup {
  readonly #servers: GrpcServer[] = [];
  readonly #clients: { close(): void }[] = [];

  server(server: GrpcServer): GrpcServer {
    this.#servers.push(server);
    return server;
  }

  client<C extends { close(): void }>(client: C): C {
    this.#clients.push(client);
    return client;
  }

  async run(): Promise<void> {
    for (const client of this.#clients.splice(0)) client.close();
    await Promise.all(this.#servers.splice(0).map((server) => server.shutdown({ graceMs: 0 })));
  }
}

/** Starts a server with the Entitlement service on 127.0.0.1:0. */
export async function startServer(
  cleanup: Cleanup,
  impl: ServiceImpl<typeof Entitlement> = entitlementImpl(),
  options: Partial<GrpcServerOptions> = {},
): Promise<{ server: GrpcServer; address: string }> {
  const server = cleanup.server(
    createGrpcServer({ logger: createSilentLogger(), ...options }).add(Entitlement, impl),
  );
  const { address } = await server.listen("127.0.0.1:0");
  return { server, address };
}

/** A client interceptor that counts attempts per method name. */
export function countAttempts(): { interceptor: ClientInterceptor; attempts: Map<string, number> } {
  const attempts = new Map<string, number>();
  return {
    attempts,
    interceptor: (next) => (request) => {
      attempts.set(request.method.name, (attempts.get(request.method.name) ?? 0) + 1);
      return next(request);
    },
  };
}

/** What a caller can observe of a call's failure. */
export async function failureOf(promise: Promise<unknown>): Promise<{
  code: Code;
  message: string;
  reason: string | undefined;
  field: string | undefined;
  metadata: Record<string, string>;
}> {
  try {
    await promise;
  } catch (err) {
    if (!(err instanceof TailorError))
      throw new Error(`expected a TailorError, got ${String(err)}`);
    return {
      code: err.code,
      message: err.message,
      reason: err.reason,
      field: err.field,
      metadata: err.metadata,
    };
  }
  throw new Error("expected the call to fail");
}
