import { gatewayV1 } from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { serviceInfo } from "@tailor/service";
import { createHttpApp } from "./http/create-http-app.js";
import { migrations } from "./store/migrations/index.js";

/**
 * Gateway: the only public HTTP process (console, REST, registry, APK
 * repositories, /healthz, /metrics); its gRPC server carries health only.
 */
export const gatewayService: ServiceDefinition = {
  name: "gateway",
  schema: "gateway",
  migrations,
  async start({ grpc, config, logger, clients, metrics }) {
    grpc.add(gatewayV1.GatewayService, {
      getServiceInfo: () => ({ info: serviceInfo("gateway") }),
    });
    const app = createHttpApp({ logger, clients, metrics });
    await app.listen({ host: config.httpHost, port: config.httpPort });
    const address = app.server.address();
    const port = typeof address === "object" && address !== null ? address.port : config.httpPort;
    const host = config.httpHost === "0.0.0.0" ? "127.0.0.1" : config.httpHost;
    const httpUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
    logger.info({ httpUrl }, "gateway serving HTTP");
    return {
      info: { httpUrl },
      stop: () => app.close(),
    };
  },
};
