/**
 * Which packages share a layer. Large packages keep their own layer (their
 * data segment is reused verbatim); runs of small ones are merged. The
 * source image's packages are planned apart from the added ones, with a
 * share of the budget that depends on the budget alone, so the same base
 * packages always give the same base layers whatever is added on top.
 */
import { LayerBudgetError } from "./errors.js";

/** Largest layer budget: the image spec allows more, but overlay file systems stop at 128 lower dirs. */
export const MAX_LAYER_BUDGET = 127;
/** Layers an image may have when the caller does not say. */
export const DEFAULT_LAYER_BUDGET = 32;
/** Packages whose compressed data is smaller than this are merged with their neighbours. @default 1 MiB */
export const DEFAULT_MERGE_BELOW_BYTES = 1024 * 1024;

/** A package as the planner sees it. */
export interface PlanUnit {
  /** Index in layer order. */
  readonly index: number;
  /** Compressed data size. */
  readonly size: number;
  /** Must be rewritten even when alone (entries left out of it). */
  readonly rewrite: boolean;
  /** Must keep a layer of its own (a rewrite could not keep its binary extended attributes). */
  readonly alone: boolean;
  /** Earlier packages whose files this one overwrites: it must not share a merged layer with them. */
  readonly overwrites: ReadonlySet<number>;
}

/** One planned layer: the package indexes it holds, in layer order. */
export interface PlannedLayer {
  /** Package indexes, in layer order. */
  readonly members: readonly number[];
  /** Whether the blob is a package's data segment as is. */
  readonly reused: boolean;
}

/** How many layers the source image's packages may use out of `budget` (the top layer takes one). */
export function baseLayerShare(budget: number, hasBase: boolean, hasAdded: boolean): number {
  const packageLayers = budget - 1;
  if (!hasAdded) return packageLayers;
  if (!hasBase) return 0;
  // Fixed by the budget alone: base layers must not move when packages are added.
  return packageLayers - Math.max(1, Math.floor(packageLayers / 4));
}

/**
 * Groups `units` (in layer order) into at most `maxLayers` layers: a unit at
 * least `mergeBelowBytes` large stays alone; smaller units accumulate into a
 * merged layer until it reaches that size or a unit overwrites a member's
 * file. While the result is over `maxLayers`, the threshold doubles.
 * Deterministic: depends on the units and the two numbers only.
 * @throws LayerBudgetError when even one merged run does not fit.
 */
export function planLayers(
  units: readonly PlanUnit[],
  maxLayers: number,
  mergeBelowBytes: number,
  what: string,
): PlannedLayer[] {
  if (units.length === 0) return [];
  const total = units.reduce((sum, unit) => sum + unit.size, 0);
  for (let threshold = Math.max(1, mergeBelowBytes); ; threshold *= 2) {
    const layers = group(units, threshold);
    if (layers.length <= maxLayers) return layers;
    if (threshold > total) {
      throw new LayerBudgetError(
        maxLayers,
        layers.length,
        `${what} need ${layers.length} layers even merged (packages overwriting each other's files cannot share a layer), ${maxLayers} available`,
      );
    }
  }
}

function group(units: readonly PlanUnit[], threshold: number): PlannedLayer[] {
  const layers: PlannedLayer[] = [];
  let run: PlanUnit[] = [];
  let runBytes = 0;
  const close = () => {
    if (run.length === 0) return;
    const only = run[0] as PlanUnit;
    layers.push({
      members: run.map((unit) => unit.index),
      reused: run.length === 1 && !only.rewrite,
    });
    run = [];
    runBytes = 0;
  };
  for (const unit of units) {
    if (unit.alone || unit.size >= threshold) {
      close();
      layers.push({ members: [unit.index], reused: !unit.rewrite });
      continue;
    }
    if (run.some((member) => unit.overwrites.has(member.index))) close();
    run.push(unit);
    runBytes += unit.size;
    if (runBytes >= threshold) close();
  }
  close();
  return layers;
}
