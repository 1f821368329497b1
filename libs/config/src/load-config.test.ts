import { describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { env } from "./env-spec.js";
import { describeConfig, loadConfig } from "./load-config.js";
import { loadPlatformConfig, serviceAddress } from "./platform-config.js";

describe("loadConfig", () => {
  const spec = {
    port: env.port("X_PORT", { default: 8080, doc: "port" }),
    name: env.string("X_NAME", { doc: "name" }),
    mode: env.oneOf("X_MODE", ["a", "b"] as const, { default: "a", doc: "mode" }),
  };

  it("applies defaults and parses values into their types", () => {
    const config = loadConfig(spec, { X_NAME: "tailor", X_PORT: "9090" });
    expect(config).toEqual({ port: 9090, name: "tailor", mode: "a" });
  });

  it("reports every bad or missing variable in one error", () => {
    let error: unknown;
    try {
      loadConfig(spec, { X_PORT: "eighty", X_MODE: "c" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.name);
    expect(problems).toEqual(["X_PORT", "X_NAME", "X_MODE"]);
    expect((error as Error).message).toContain('X_PORT must be a whole number, got "eighty"');
    expect((error as Error).message).toContain("X_NAME is required but not set");
    expect((error as Error).message).toContain('X_MODE must be one of a, b, got "c"');
  });

  it("describes every variable for the documentation", () => {
    expect(describeConfig(spec).map((r) => [r.name, r.defaultText])).toEqual([
      ["X_PORT", "8080"],
      ["X_NAME", "required"],
      ["X_MODE", "a"],
    ]);
  });
});

describe("loadPlatformConfig", () => {
  it("gives the documented defaults on an empty environment", () => {
    const config = loadPlatformConfig({});
    expect(config.dataDir).toBe("./.tailor");
    expect(config.httpPort).toBe(8080);
    expect(config.databaseUrl).toBeUndefined();
    expect(serviceAddress(config, "build-history")).toBe("127.0.0.1:50055");
  });

  it("rejects a non-Postgres DATABASE_URL and a malformed gRPC address together", () => {
    let message = "";
    try {
      loadPlatformConfig({
        DATABASE_URL: "mysql://db/x",
        TAILOR_CATALOG_GRPC_ADDRESS: "catalog",
        TAILOR_HTTP_PORT: "70000",
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("3 problem(s)");
    expect(message).toContain('DATABASE_URL must use postgres: or postgresql:, got "mysql:"');
    expect(message).toContain("TAILOR_HTTP_PORT must be between 0 and 65535, got 70000");
    expect(message).toContain(
      'TAILOR_CATALOG_GRPC_ADDRESS must be host:port (e.g. 127.0.0.1:50051), got "catalog"',
    );
  });
});
