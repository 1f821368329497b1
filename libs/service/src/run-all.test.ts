import { describe, expect, it } from "vitest";
import { runAll } from "./start-service.js";

describe("runAll", () => {
  it("runs every cleanup step even when an earlier one fails, then rethrows the first failure", async () => {
    const ran: string[] = [];
    const done: string[] = [];
    const result = runAll(
      [
        async () => {
          ran.push("grpc");
          throw new Error("grpc drain failed");
        },
        async () => {
          ran.push("service");
          throw new Error("second failure");
        },
        async () => {
          ran.push("bus");
        },
      ],
      () => done.push("logged"),
    );
    await expect(result).rejects.toThrow("grpc drain failed");
    expect(ran).toEqual(["grpc", "service", "bus"]);
    expect(done).toEqual([]);
  });

  it("reports success once every step succeeded", async () => {
    const done: string[] = [];
    await runAll([async () => undefined, async () => undefined], () => done.push("stopped"));
    expect(done).toEqual(["stopped"]);
  });
});
