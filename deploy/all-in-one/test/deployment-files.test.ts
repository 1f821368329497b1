// No Docker engine or Kubernetes runs here, so this reads docker-compose.yml,
// deploy/Dockerfile and deploy/kubernetes as data and checks that everything
// they reference exists: entry points, ports and environment variables.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildHistorySpec } from "@tailor/build-history";
import { builderSpec } from "@tailor/builder";
import { catalogSpec } from "@tailor/catalog";
import type { ServiceName } from "@tailor/config";
import {
  DEFAULT_GRPC_PORTS,
  grpcAddressVariable,
  platformSpec,
  SERVICE_NAMES,
} from "@tailor/config";
import { entitlementSpec } from "@tailor/entitlement";
import { gatewaySpec } from "@tailor/gateway";
import { resolverSpec } from "@tailor/resolver";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";

const root = fileURLToPath(new URL("../../../", import.meta.url));
// Shared variables plus those a single service reads; any of them may appear in deployments.
const knownVariables = new Set(
  [
    platformSpec,
    catalogSpec,
    entitlementSpec,
    resolverSpec,
    builderSpec,
    buildHistorySpec,
    gatewaySpec,
  ].flatMap((spec) => Object.values(spec).map((field) => field.name)),
);

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  deploy?: { replicas?: number };
}

const compose = parse(fs.readFileSync(path.join(root, "docker-compose.yml"), "utf8"), {
  merge: true,
}) as { services: Record<string, ComposeService> };

/** `node services/x/dist/main.js` must come from `services/x/src/main.ts`, built by tsconfig.build.json. */
function expectEntryPointExists(command: string[] | undefined, where: string): string {
  expect(command?.[0], `${where}: command runs node`).toBe("node");
  const entry = command?.[1] ?? "";
  const match = /^(services\/[a-z-]+|deploy\/all-in-one)\/dist\/(.+)\.js$/.exec(entry);
  expect(match, `${where}: ${entry} is a dist entry point`).not.toBeNull();
  const source = path.join(root, match?.[1] ?? "", "src", `${match?.[2]}.ts`);
  expect(fs.existsSync(source), `${where}: ${source} exists`).toBe(true);
  const buildConfig = JSON.parse(
    fs.readFileSync(path.join(root, match?.[1] ?? "", "tsconfig.build.json"), "utf8"),
  ) as { compilerOptions: { outDir: string; rootDir: string } };
  expect(buildConfig.compilerOptions).toMatchObject({ rootDir: "src", outDir: "dist" });
  return match?.[1] ?? "";
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(":") + 1));
}

function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(":"));
}

describe("docker-compose.yml", () => {
  const services = compose.services;

  it("runs Postgres, NATS with JetStream, and every Tailor service", () => {
    expect(services.postgres?.image).toMatch(/^postgres:/);
    expect(services.nats?.image).toMatch(/^nats:2\.9/);
    expect((services.nats as { command?: string[] }).command).toContain("-js");
    for (const name of SERVICE_NAMES) expect(Object.keys(services)).toContain(name);
  });

  it("runs two builder replicas", () => {
    expect(services.builder?.deploy?.replicas).toBe(2);
  });

  it("builds from a Dockerfile that exists and copies every service", () => {
    for (const name of SERVICE_NAMES) {
      const build = services[name]?.build;
      expect(build, name).toBeDefined();
      const dockerfile = path.join(root, build?.context ?? "", build?.dockerfile ?? "");
      expect(fs.existsSync(dockerfile), dockerfile).toBe(true);
      expect(fs.readFileSync(dockerfile, "utf8")).toMatch(/COPY --from=build \/src\/services/);
    }
  });

  it("starts each service from its own built entry point", () => {
    for (const name of SERVICE_NAMES) {
      const dir = expectEntryPointExists(services[name]?.command, `compose ${name}`);
      expect(dir).toBe(`services/${name}`);
      expect(fs.existsSync(path.join(root, dir, "package.json"))).toBe(true);
    }
  });

  it("sets only variables Tailor reads, pointing at hosts and ports that exist", () => {
    for (const name of SERVICE_NAMES) {
      const environment = services[name]?.environment ?? {};
      for (const variable of Object.keys(environment)) {
        expect(
          knownVariables.has(variable),
          `compose ${name}: ${variable} is a Tailor variable`,
        ).toBe(true);
      }
      expect(new URL(environment.DATABASE_URL ?? "").hostname).toBe("postgres");
      expect(new URL(environment.NATS_URL ?? "").hostname).toBe("nats");
      for (const target of SERVICE_NAMES) {
        const address = environment[grpcAddressVariable(target)] ?? "";
        expect(hostOf(address), `${name} dials ${target}`).toBe(target);
        expect(portOf(address)).toBe(DEFAULT_GRPC_PORTS[target]);
      }
      // Each service listens on the port the others dial.
      expect(portOf(environment.TAILOR_GRPC_LISTEN_ADDRESS ?? "")).toBe(DEFAULT_GRPC_PORTS[name]);
    }
  });

  it("publishes the gateway's HTTP port", () => {
    const gateway = services.gateway;
    expect(gateway?.ports).toContain(`${gateway?.environment?.TAILOR_HTTP_PORT}:8080`);
    expect(gateway?.environment?.TAILOR_HTTP_HOST).toBe("0.0.0.0");
  });
});

describe("deploy/kubernetes", () => {
  const dir = path.join(root, "deploy/kubernetes");
  const kustomization = parse(fs.readFileSync(path.join(dir, "kustomization.yaml"), "utf8")) as {
    resources: string[];
  };
  const documents = kustomization.resources.flatMap((file) => {
    expect(fs.existsSync(path.join(dir, file)), file).toBe(true);
    return parseAllDocuments(fs.readFileSync(path.join(dir, file), "utf8")).map((d) => {
      expect(d.errors, file).toEqual([]);
      // biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, probed field by field below
      return d.toJSON() as Record<string, any>;
    });
  });
  const configMap = documents.find((d) => d.kind === "ConfigMap")?.data as Record<string, string>;

  it("lists every manifest in the kustomization and only known variables in the ConfigMap", () => {
    for (const variable of Object.keys(configMap)) {
      expect(knownVariables.has(variable), variable).toBe(true);
    }
  });

  it("has a Deployment and a Service per Tailor service with matching ports", () => {
    for (const name of SERVICE_NAMES as readonly ServiceName[]) {
      const deployment = documents.find((d) => d.kind === "Deployment" && d.metadata.name === name);
      const service = documents.find((d) => d.kind === "Service" && d.metadata.name === name);
      expect(deployment, `Deployment ${name}`).toBeDefined();
      expect(service, `Service ${name}`).toBeDefined();
      const container = deployment?.spec.template.spec.containers[0];
      expectEntryPointExists(container.command, `Deployment ${name}`);
      const env = Object.fromEntries(
        (container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]),
      );
      for (const variable of Object.keys(env))
        expect(knownVariables.has(variable), variable).toBe(true);
      const port = DEFAULT_GRPC_PORTS[name];
      expect(portOf(env.TAILOR_GRPC_LISTEN_ADDRESS ?? "")).toBe(port);
      expect(portOf(configMap[grpcAddressVariable(name)] ?? "")).toBe(port);
      expect(hostOf(configMap[grpcAddressVariable(name)] ?? "")).toBe(`${name}.tailor.svc`);
      expect(container.ports.map((p: { containerPort: number }) => p.containerPort)).toContain(
        port,
      );
      expect(service?.spec.ports.map((p: { port: number }) => p.port)).toContain(port);
      expect(container.readinessProbe.grpc.port).toBe(port);
    }
  });

  it("scales builders out", () => {
    const builder = documents.find((d) => d.kind === "Deployment" && d.metadata.name === "builder");
    expect(builder?.spec.replicas).toBeGreaterThanOrEqual(2);
  });
});

describe("README", () => {
  it("documents every configuration variable", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    for (const variable of knownVariables) expect(readme, variable).toContain(`\`${variable}\``);
  });
});
