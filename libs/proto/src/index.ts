/**
 * @tailor/proto — generated message and service descriptors for every
 * contract in `proto/`, one namespace per protobuf package.
 *
 * Regenerate with `npm run generate`; never edit `src/gen` by hand.
 */
export * as healthV1 from "./gen/grpc/health/v1/health_pb.js";
export * as builderV1 from "./gen/tailor/builder/v1/builder_pb.js";
export * as catalogV1 from "./gen/tailor/catalog/v1/catalog_pb.js";
export * as commonV1 from "./gen/tailor/common/v1/types_pb.js";
export * as entitlementV1 from "./gen/tailor/entitlement/v1/entitlement_pb.js";
export * as eventsV1 from "./gen/tailor/events/v1/events_pb.js";
export * as gatewayV1 from "./gen/tailor/gateway/v1/gateway_pb.js";
export * as historyV1 from "./gen/tailor/history/v1/history_pb.js";
export * as resolverV1 from "./gen/tailor/resolver/v1/resolver_pb.js";
