import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, forService } from "./logger.js";

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const lines = () =>
    chunks
      .join("")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines };
}

describe("createLogger", () => {
  it("writes JSON lines carrying the service and child fields", () => {
    const out = capture();
    const root = createLogger({ service: "all-in-one", destination: out.stream });
    const log = forService(root, "builder").child({ buildId: "b-1", org: "acme" });
    log.info({ step: "resolve" }, "resolving closure");
    const [line] = out.lines();
    expect(line).toMatchObject({
      service: "builder",
      buildId: "b-1",
      org: "acme",
      step: "resolve",
      msg: "resolving closure",
    });
  });

  it("drops lines below the configured level", () => {
    const out = capture();
    const log = createLogger({ service: "x", level: "warn", destination: out.stream });
    log.info("hidden");
    log.warn("shown");
    expect(out.lines().map((l) => l.msg)).toEqual(["shown"]);
  });
});

describe("a process hosting several services", () => {
  it("stamps the process once and each service once", () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    const root = createLogger({ service: "tailor", field: "process", destination: stream });
    forService(root, "catalog").info("hello");
    const line = chunks.join("");
    expect(line.match(/"service"/g)).toHaveLength(1);
    expect(JSON.parse(line)).toMatchObject({ process: "tailor", service: "catalog" });
  });
});
