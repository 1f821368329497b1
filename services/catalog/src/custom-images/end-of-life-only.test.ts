import { describe, expect, it } from "vitest";
import type { EndOfLifeStream } from "./end-of-life-only.js";
import { findEndOfLifeOnly } from "./end-of-life-only.js";

const rules: Record<string, EndOfLifeStream> = {
  "python-3.8": { beforeVersion: undefined, reason: "Python 3.8 is no longer maintained" },
  "nodejs-18": { beforeVersion: "18.20.0-r0", reason: "old 18.x builds are unsupported" },
};
const versions: Record<string, string[]> = {
  "python-3.8": ["3.8.20-r0"],
  "nodejs-18": ["18.19.1-r0", "18.20.4-r0"],
  "nodejs-16": ["16.20.2-r0"],
};
const check = (atoms: string[]) =>
  findEndOfLifeOnly(
    atoms,
    (name) => rules[name],
    (name) => versions[name] ?? [],
  );

describe("findEndOfLifeOnly", () => {
  it("reports a stream that is end-of-life in every version", () => {
    expect(check(["curl", "python-3.8"])).toEqual(
      new Map([["python-3.8", "Python 3.8 is no longer maintained"]]),
    );
  });

  it("accepts a stream that still has a supported version in the catalog", () => {
    expect(check(["nodejs-18"])).toEqual(new Map());
    expect(check(["nodejs-18>=18.20"])).toEqual(new Map());
  });

  it("reports an atom whose constraint only allows end-of-life versions", () => {
    expect(check(["nodejs-18<18.20"])).toEqual(
      new Map([["nodejs-18", "old 18.x builds are unsupported"]]),
    );
    expect(check(["nodejs-18=18.19.1-r0"]).has("nodejs-18")).toBe(true);
  });

  it("ignores packages without a rule, conflicts and atoms that do not parse", () => {
    expect(check(["nodejs-16", "!python-3.8", "py>="])).toEqual(new Map());
  });
});
