import type { Document, Node } from "yaml";
import { isAlias, isMap, isScalar, isSeq } from "yaml";
import type { FieldProblem } from "./field-problem.js";

/** A node read from YAML, with the path it was found at. */
export interface YamlValue {
  readonly node: Node;
  readonly path: string;
}

/**
 * Reads typed values out of a parsed YAML document and records a
 * {@link FieldProblem} at the exact path for every value of the wrong type,
 * so one pass reports everything. Scalars bound for string fields keep their
 * source text (`archs: [386]` reads as "386"), as Go's YAML decoder does for
 * apko.
 */
export class YamlReader {
  readonly problems: FieldProblem[] = [];

  constructor(private readonly document: Document) {}

  /** Records a problem at `field`. */
  problem(field: string, message: string): void {
    this.problems.push({ field, message });
  }

  /** The node itself, or what an alias points at; undefined for null and missing values. */
  resolve(node: unknown): Node | undefined {
    let current = node;
    if (isAlias(current)) current = current.resolve(this.document);
    if (current === undefined || current === null) return undefined;
    if (isScalar(current) && current.value === null) return undefined;
    return current as Node;
  }

  /** The entries of a mapping as `[key, value]` with the value's path; [] and a problem otherwise. */
  entries(value: YamlValue): Array<[string, YamlValue]> {
    const node = this.resolve(value.node);
    if (node === undefined) return [];
    if (!isMap(node)) {
      // The document itself is reported as `yaml`, the request field that carried it.
      this.problem(
        value.path === "" ? "yaml" : value.path,
        `must be a mapping, not ${describeNode(node)}`,
      );
      return [];
    }
    const result: Array<[string, YamlValue]> = [];
    for (const pair of node.items) {
      const keyNode = this.resolve(pair.key);
      if (keyNode === undefined || !isScalar(keyNode)) {
        this.problem(
          value.path === "" ? "yaml" : value.path,
          "has a key that is not a plain string",
        );
        continue;
      }
      const key = scalarText(keyNode);
      const path = value.path === "" ? key : `${value.path}.${key}`;
      const child = this.resolve(pair.value);
      if (child !== undefined) result.push([key, { node: child, path }]);
    }
    return result;
  }

  /** The items of a sequence with their paths (`path[i]`); [] and a problem otherwise. */
  items(value: YamlValue): YamlValue[] {
    const node = this.resolve(value.node);
    if (node === undefined) return [];
    if (!isSeq(node)) {
      this.problem(value.path, `must be a list, not ${describeNode(node)}`);
      return [];
    }
    const result: YamlValue[] = [];
    node.items.forEach((item, index) => {
      const child = this.resolve(item);
      const path = `${value.path}[${index}]`;
      if (child === undefined) this.problem(path, "must not be empty");
      else result.push({ node: child, path });
    });
    return result;
  }

  /** A scalar as text; undefined and a problem for a mapping or list. */
  string(value: YamlValue): string | undefined {
    const node = this.resolve(value.node);
    if (node === undefined) return undefined;
    if (!isScalar(node)) {
      this.problem(value.path, `must be a string, not ${describeNode(node)}`);
      return undefined;
    }
    return scalarText(node);
  }

  /** A list of strings; the wrong items are reported and left out. */
  strings(value: YamlValue): string[] {
    const result: string[] = [];
    for (const item of this.items(value)) {
      const text = this.string(item);
      if (text !== undefined) result.push(text);
    }
    return result;
  }

  /** A mapping of strings to strings. */
  stringMap(value: YamlValue): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [key, child] of this.entries(value)) {
      const text = this.string(child);
      if (text !== undefined) result[key] = text;
    }
    return result;
  }

  /** A whole number within [min, max]; undefined and a problem otherwise. */
  integer(value: YamlValue, min: number, max: number): number | undefined {
    const node = this.resolve(value.node);
    if (node === undefined) return undefined;
    if (!isScalar(node) || typeof node.value !== "number" || !Number.isInteger(node.value)) {
      const shown = isScalar(node) ? JSON.stringify(scalarText(node)) : describeNode(node);
      this.problem(value.path, `must be a whole number, not ${shown}`);
      return undefined;
    }
    if (node.value < min || node.value > max) {
      this.problem(value.path, `must be between ${min} and ${max}, not ${node.value}`);
      return undefined;
    }
    return node.value;
  }
}

/** A scalar's text: its source spelling for numbers and booleans, its value for strings. */
function scalarText(node: { value: unknown; source?: string }): string {
  if (typeof node.value === "string") return node.value;
  return node.source ?? String(node.value);
}

function describeNode(node: Node): string {
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) return `${typeof node.value} ${JSON.stringify(scalarText(node))}`;
  return "an unsupported YAML node";
}
